-- Faces stage: detections with embeddings, persons, and which photos were scanned.

CREATE TABLE IF NOT EXISTS face_scans (
    photo_id      BIGINT NOT NULL,
    model_version VARCHAR NOT NULL,
    n_faces       INTEGER NOT NULL,
    PRIMARY KEY (photo_id, model_version)
);

CREATE TABLE IF NOT EXISTS faces (
    face_id       VARCHAR PRIMARY KEY,         -- "<photo_id>-<n>"
    library_id    INTEGER NOT NULL,
    photo_id      BIGINT NOT NULL,
    model_version VARCHAR NOT NULL,
    box_left      FLOAT NOT NULL,              -- box in 0..1 of the upright photo
    box_top       FLOAT NOT NULL,
    box_right     FLOAT NOT NULL,
    box_bottom    FLOAT NOT NULL,
    confidence    FLOAT NOT NULL,
    embedding     FLOAT[] NOT NULL,            -- 128-d dlib descriptor
    person_id     INTEGER,
    pinned        BOOLEAN NOT NULL DEFAULT false  -- placed by a person (merge/split/move)
);

CREATE TABLE IF NOT EXISTS persons (
    library_id    INTEGER NOT NULL,
    person_id     INTEGER NOT NULL,
    name          VARCHAR,
    merged_into   INTEGER,                     -- set for ids retired by a merge
    PRIMARY KEY (library_id, person_id)
);

CREATE TABLE IF NOT EXISTS people_state (
    library_id     INTEGER PRIMARY KEY,
    next_person_id INTEGER NOT NULL
);
