-- Memories review: what people decided about each album (curation/review.py).
-- History, never updates: one row per decision; an album's latest row is its status.
-- album_id is the albums stage's stable id, so decisions outlive a re-run of the stage.

CREATE SEQUENCE IF NOT EXISTS album_review_id_seq START 1;

CREATE TABLE IF NOT EXISTS album_reviews (
    review_id        BIGINT PRIMARY KEY DEFAULT nextval('album_review_id_seq'),
    library_id       INTEGER NOT NULL,
    album_id         VARCHAR NOT NULL,
    decision         VARCHAR NOT NULL,         -- approved | rejected
    reason           VARCHAR,                  -- required for a rejection, optional note otherwise
    story            TINYINT NOT NULL,         -- rubric, 1..5: does the album tell a story
    photo_choice     TINYINT NOT NULL,         -- 1..5: are these the right photos
    title_score      TINYINT NOT NULL,         -- 1..5: how good the generated suggestions were
    reviewer         VARCHAR NOT NULL,
    title            VARCHAR NOT NULL,         -- the final title
    title_edited     BOOLEAN NOT NULL,         -- true: written by the reviewer, not a suggestion
    suggestion_rank  INTEGER,                  -- 1-based position in title_suggestions; NULL when edited
    generated_title  VARCHAR NOT NULL,         -- the album's title when it was reviewed
    decided_at       TIMESTAMP NOT NULL
);
