-- Analysis: the embedding explorer's 2-D maps and what people do with them (tags, picks).

-- One UMAP layout (PCA first) with k-means clusters per library, embedder version and map
-- parameters; computed once, read by every later visit (curation/analysis/embedding_map.py).
CREATE TABLE IF NOT EXISTS embedding_maps (
    library_id    INTEGER NOT NULL,
    model_version VARCHAR NOT NULL,            -- the embeddings it was made from
    params_key    VARCHAR NOT NULL,            -- short hash of params
    params        VARCHAR NOT NULL,            -- JSON of MapParams
    method        VARCHAR NOT NULL,            -- umap | pca (libraries too small for UMAP)
    n_photos      INTEGER NOT NULL,
    photos_hash   VARCHAR NOT NULL,            -- which photos it covers: stale once it differs
    n_clusters    INTEGER NOT NULL,
    seconds       DOUBLE NOT NULL,
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (library_id, model_version, params_key)
);

CREATE TABLE IF NOT EXISTS embedding_map_points (
    library_id    INTEGER NOT NULL,
    model_version VARCHAR NOT NULL,
    params_key    VARCHAR NOT NULL,
    photo_id      BIGINT NOT NULL,
    x             FLOAT NOT NULL,
    y             FLOAT NOT NULL,
    cluster       INTEGER NOT NULL,            -- 0 = biggest cluster
    typicality    INTEGER NOT NULL             -- rank by distance to its cluster's centre, 0 = closest
);

-- Free-text tags people put on photos (the explorer's "Tag" action).
CREATE TABLE IF NOT EXISTS photo_tags (
    photo_id      BIGINT NOT NULL,
    tag           VARCHAR NOT NULL,            -- trimmed, lower case
    source        VARCHAR NOT NULL,            -- explorer
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (photo_id, tag)
);

-- Photos picked in the explorer for labeling, kept here only when the labeling package
-- (labeling.queue, table label_queue) cannot be imported; otherwise they go to label_queue.
CREATE TABLE IF NOT EXISTS explorer_selections (
    photo_id      BIGINT NOT NULL,
    task_type     VARCHAR NOT NULL,            -- themes | clutter
    reason        VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (photo_id, task_type)
);
