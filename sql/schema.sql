-- Curation Studio store (DuckDB). Applied idempotently on every connection that writes.
-- One row per file ever seen in a library; the status says whether it is a usable photo.

CREATE SEQUENCE IF NOT EXISTS library_id_seq START 1;
CREATE SEQUENCE IF NOT EXISTS photo_id_seq START 1;
CREATE SEQUENCE IF NOT EXISTS run_id_seq START 1;

CREATE TABLE IF NOT EXISTS libraries (
    library_id   INTEGER PRIMARY KEY DEFAULT nextval('library_id_seq'),
    root         VARCHAR NOT NULL UNIQUE,      -- absolute, resolved path
    name         VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS runs (
    run_id       INTEGER PRIMARY KEY DEFAULT nextval('run_id_seq'),
    library_id   INTEGER NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL,             -- running | done | failed
    stages       VARCHAR NOT NULL,             -- comma-separated stages that ran
    n_files      INTEGER DEFAULT 0,            -- files with a photo extension seen
    n_new        INTEGER DEFAULT 0,
    n_changed    INTEGER DEFAULT 0,
    n_unchanged  INTEGER DEFAULT 0,
    n_removed    INTEGER DEFAULT 0,
    n_skipped    INTEGER DEFAULT 0,
    n_warnings   INTEGER DEFAULT 0,
    seconds      DOUBLE,
    message      VARCHAR
);

CREATE TABLE IF NOT EXISTS photos (
    photo_id      BIGINT PRIMARY KEY DEFAULT nextval('photo_id_seq'),
    library_id    INTEGER NOT NULL,
    rel_path      VARCHAR NOT NULL,            -- POSIX path relative to the library root
    status        VARCHAR NOT NULL,            -- ok | skipped | removed
    size_bytes    BIGINT,
    mtime_ns      BIGINT,
    sha256        VARCHAR,                     -- content identity; equal = exact duplicate
    format        VARCHAR,                     -- JPEG | PNG | HEIF | TIFF | WEBP
    width         INTEGER,                     -- after EXIF orientation
    height        INTEGER,
    orientation   TINYINT,
    phash         VARCHAR,                     -- 64-bit DCT perceptual hash, hex
    camera_make   VARCHAR,
    camera_model  VARCHAR,
    taken_at      TIMESTAMP,                   -- local wall-clock capture time
    tz_offset_min SMALLINT,                    -- minutes east of UTC, when known
    time_source   VARCHAR,                     -- exif | xmp | filename | mtime | none
    time_reliable BOOLEAN,
    lat           DOUBLE,
    lon           DOUBLE,
    alt           DOUBLE,
    first_run_id  INTEGER,
    last_run_id   INTEGER,                     -- last run that (re)processed the file
    removed_at    TIMESTAMP,
    UNIQUE (library_id, rel_path)
);

-- Current doubts about each file; replaced whenever the file is processed again.
CREATE TABLE IF NOT EXISTS ingest_issues (
    library_id   INTEGER NOT NULL,
    rel_path     VARCHAR NOT NULL,
    run_id       INTEGER NOT NULL,
    severity     VARCHAR NOT NULL,             -- skipped | warning
    code         VARCHAR NOT NULL,             -- truncated, bomb, absurd_date, ...
    reason       VARCHAR NOT NULL              -- a sentence a person understands
);

CREATE OR REPLACE VIEW library_photos AS
    SELECT * FROM photos WHERE status = 'ok';
