-- Albums stage: Memories albums, their photos in order with a reason each, and a compact
-- copy of the image embeddings that photo selection reads (see curation/albums/vectors.py).

-- One row per album; the stage replaces a library's albums on every run. album_id is
-- stable ("<library_id>-<kind>-<key>"), so a trip keeps its id from run to run.
CREATE TABLE IF NOT EXISTS albums (
    library_id        INTEGER NOT NULL,
    album_id          VARCHAR PRIMARY KEY,
    kind              VARCHAR NOT NULL,        -- trip | event | person | together | theme | year | on_this_day
    title             VARCHAR NOT NULL,        -- = title_suggestions[1]
    title_suggestions VARCHAR[] NOT NULL,      -- best first
    caption           VARCHAR NOT NULL,
    cover_photo_id    BIGINT NOT NULL,
    cover_reason      VARCHAR,
    score             DOUBLE NOT NULL,         -- ranking, 0..1 (curation/albums/scoring.py)
    start_at          TIMESTAMP,               -- first and last photo in the album
    end_at            TIMESTAMP,
    place_name        VARCHAR,
    facts             JSON NOT NULL,           -- AlbumFacts: the only material of the titles
    title_trace       JSON,                    -- each suggestion and the caption with facts_used
    rule              VARCHAR,                 -- why the album qualified
    n_eligible        INTEGER,                 -- photos it could have used
    generator         VARCHAR NOT NULL,        -- title generator whose text is used
    fallback_reason   VARCHAR,                 -- why the configured generator's text was not used
    language          VARCHAR NOT NULL,
    created_at        TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS album_photos (
    album_id   VARCHAR NOT NULL,
    photo_id   BIGINT NOT NULL,
    position   INTEGER NOT NULL,               -- 0-based, chronological
    reason     VARCHAR NOT NULL,               -- one line: why this photo is in the album
    PRIMARY KEY (album_id, photo_id)
);

-- Embeddings projected to a few dimensions (sign random projection): reading 100,000
-- 1280-d vectors takes seconds, 128-d ones a fraction of a second. Filled incrementally.
CREATE TABLE IF NOT EXISTS album_vectors (
    photo_id       BIGINT NOT NULL,
    model_version  VARCHAR NOT NULL,           -- the embeddings row it was made from
    projection     VARCHAR NOT NULL,           -- e.g. sign-rp-128@1
    vector         FLOAT[] NOT NULL,           -- L2-normalised
    PRIMARY KEY (photo_id, model_version, projection)
);
