-- Labeling loop: hard cases queued for people, their Label Studio tasks, the labels that come
-- back, and the training runs that learn from them (labeling/, curation/training/).

CREATE SEQUENCE IF NOT EXISTS label_item_id_seq START 1;
CREATE SEQUENCE IF NOT EXISTS training_run_id_seq START 1;

-- This store's identity on Label Studio servers (one row): tasks carry it, so several
-- databases can share a server without their keys colliding.
CREATE TABLE IF NOT EXISTS labeling_store (
    store_id   VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- One row per question we want a person to answer; item_key is stable across re-mining
-- ("themes:<photo_id>", "clutter:<photo_id>", "same_person:<face_id>:<ref_face_id>",
-- "same_event:<photo_id>:<ref_photo_id>").
CREATE TABLE IF NOT EXISTS label_queue (
    item_id       BIGINT PRIMARY KEY DEFAULT nextval('label_item_id_seq'),
    item_key      VARCHAR NOT NULL UNIQUE,
    task_type     VARCHAR NOT NULL,            -- themes | clutter | same_person | same_event
    photo_id      BIGINT NOT NULL,             -- same_person: the photo of face_id; same_event: the first photo
    face_id       VARCHAR,                     -- same_person: the doubtful face
    ref_face_id   VARCHAR,                     -- same_person: the person's most typical face
    person_id     INTEGER,                     -- same_person: the person asked about
    reason        VARCHAR NOT NULL,            -- why it is hard, a sentence a person understands
    priority      DOUBLE NOT NULL,             -- 0..1, higher first
    source        VARCHAR NOT NULL,            -- mined | explorer
    status        VARCHAR NOT NULL DEFAULT 'queued',  -- queued | pushed | labelled
    model_version VARCHAR,                     -- the predictions that made it hard
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at    TIMESTAMP NOT NULL DEFAULT current_timestamp
);
-- same_event: the second photo of the pair (the photo after the doubtful boundary). Added
-- by ALTER so that databases made before it gain the column.
ALTER TABLE label_queue ADD COLUMN IF NOT EXISTS ref_photo_id BIGINT;

-- Queue item <-> Label Studio task (one per item and server; re-pushing reuses it).
CREATE TABLE IF NOT EXISTS label_tasks (
    item_id       BIGINT NOT NULL,
    ls_url        VARCHAR NOT NULL,            -- the server (no credentials)
    ls_project_id INTEGER NOT NULL,
    ls_task_id    BIGINT NOT NULL,
    pushed_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (item_id, ls_url)
);

-- Annotations pulled back from Label Studio, one row per annotation.
CREATE TABLE IF NOT EXISTS labels (
    ls_url        VARCHAR NOT NULL,
    annotation_id BIGINT NOT NULL,
    ls_task_id    BIGINT NOT NULL,
    item_id       BIGINT NOT NULL,
    task_type     VARCHAR NOT NULL,
    photo_id      BIGINT NOT NULL,
    face_id       VARCHAR,
    ref_face_id   VARCHAR,
    annotator     VARCHAR NOT NULL,            -- e-mail (or user id) in Label Studio
    created_at    TIMESTAMP,
    updated_at    TIMESTAMP,
    lead_time_s   DOUBLE,                      -- seconds the annotator spent
    cancelled     BOOLEAN NOT NULL,            -- skipped in Label Studio: no answer
    value         VARCHAR,                     -- normalised answer, JSON (see labeling/convert.py)
    result        VARCHAR NOT NULL,            -- Label Studio's raw result, JSON
    conflict      BOOLEAN NOT NULL DEFAULT false,  -- another annotator answered differently
    pulled_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (ls_url, annotation_id)
);

-- Every `curation train`: its data, split, seed and held-out metrics (also in model_versions).
CREATE TABLE IF NOT EXISTS training_runs (
    run_id        INTEGER PRIMARY KEY DEFAULT nextval('training_run_id_seq'),
    model_version VARCHAR NOT NULL,            -- heads@<n>-<hash>
    embedder      VARCHAR NOT NULL,            -- the embeddings it was trained on
    seed          INTEGER NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    seconds       DOUBLE,
    n_human       INTEGER NOT NULL,            -- photos with human labels used
    n_bootstrap   INTEGER NOT NULL,            -- photos with bootstrap (pseudo) labels used
    n_predicted   INTEGER NOT NULL,            -- photos re-scored with the new heads
    weights_path  VARCHAR,
    metrics       VARCHAR NOT NULL             -- JSON, same as model_versions.metrics
);
