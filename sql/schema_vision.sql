-- Vision stage: embeddings and predictions, always keyed by the model version that made them.

CREATE TABLE IF NOT EXISTS embeddings (
    photo_id      BIGINT NOT NULL,
    model_version VARCHAR NOT NULL,            -- e.g. efficientnet_lite0@57934424+onnx
    vector        FLOAT[] NOT NULL,            -- L2-normalised
    PRIMARY KEY (photo_id, model_version)
);

-- Raw per-photo outputs of the image model, kept for mining hard cases and retraining.
CREATE TABLE IF NOT EXISTS photo_predictions (
    photo_id        BIGINT NOT NULL,
    model_version   VARCHAR NOT NULL,          -- the head that scored (themes/clutter version)
    theme_scores    FLOAT[] NOT NULL,          -- one per theme, THEMES order
    imagenet_top    INTEGER,                   -- most likely ImageNet class
    imagenet_prob   FLOAT,
    PRIMARY KEY (photo_id, model_version)
);

CREATE TABLE IF NOT EXISTS photo_themes (
    photo_id      BIGINT NOT NULL,
    model_version VARCHAR NOT NULL,
    theme         VARCHAR NOT NULL,
    score         FLOAT NOT NULL,
    rank          TINYINT NOT NULL             -- 1 = best
);

CREATE TABLE IF NOT EXISTS photo_clutter (
    photo_id      BIGINT NOT NULL,
    model_version VARCHAR NOT NULL,
    category      VARCHAR NOT NULL,            -- photo | screenshot | receipt | document
    score         FLOAT NOT NULL,              -- probability of that category
    is_clutter    BOOLEAN NOT NULL,
    signals       VARCHAR,                     -- JSON of the cheap signals that took part
    PRIMARY KEY (photo_id, model_version)
);

CREATE TABLE IF NOT EXISTS photo_quality (
    photo_id      BIGINT PRIMARY KEY,
    sharpness     FLOAT,                       -- variance of the Laplacian on the small thumbnail
    exposure      FLOAT,                       -- 1 = well exposed, 0 = black or blown out
    face_area     FLOAT,                       -- largest face's share of the frame (0 without faces)
    score         FLOAT                        -- 0..1, used to pick the best shot
);

-- Near-duplicate groups (bursts, edited copies) within a library; one representative each.
CREATE TABLE IF NOT EXISTS near_duplicates (
    library_id     INTEGER NOT NULL,
    photo_id       BIGINT NOT NULL,
    group_id       BIGINT NOT NULL,            -- the representative's photo_id
    representative BOOLEAN NOT NULL,
    PRIMARY KEY (library_id, photo_id)
);

-- Which model versions are current for each task (newest wins; retraining adds rows).
CREATE TABLE IF NOT EXISTS model_versions (
    task          VARCHAR NOT NULL,            -- embedder | themes | clutter | faces
    model_version VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    metrics       VARCHAR,                     -- JSON
    PRIMARY KEY (task, model_version)
);
