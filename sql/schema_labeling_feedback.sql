-- The labeling loop's feedback into the engine: the event boundaries the segmenter doubted
-- (mined as "same event?" questions), and people's answers on pairs of photos and of faces,
-- which the events stage and the people index honour as constraints (docs/labeling.md).

-- Written by the events stage, replaced per library on each run: gaps between consecutive
-- photos within a factor 2 of the deciding rule's cut-off, and gaps a person's answer decided.
CREATE TABLE IF NOT EXISTS event_boundaries (
    library_id    INTEGER NOT NULL,
    photo_before  BIGINT NOT NULL,
    photo_after   BIGINT NOT NULL,             -- the next photo in time order
    gap_s         DOUBLE NOT NULL,
    rule          VARCHAR NOT NULL,            -- time | night | place: the rule closest to deciding it
    margin        DOUBLE NOT NULL,             -- ln(value / cut-off): > 0 splits, near 0 a close call
    split         BOOLEAN NOT NULL,            -- different events (after people's answers)
    labelled      BOOLEAN NOT NULL,            -- a person's answer decided it
    reason        VARCHAR NOT NULL,            -- a sentence a person understands
    model_version VARCHAR NOT NULL,            -- EventSegmenter.version (rules and parameters)
    PRIMARY KEY (library_id, photo_before)
);

-- "Same event?" answers: constraints for the events stage's next run (a "no" forces a
-- boundary between the two photos, a "yes" forbids one). One row per pair, photo_a < photo_b.
CREATE TABLE IF NOT EXISTS event_links (
    library_id  INTEGER NOT NULL,
    photo_a     BIGINT NOT NULL,
    photo_b     BIGINT NOT NULL,
    same_event  BOOLEAN NOT NULL,
    source      VARCHAR NOT NULL,              -- label (Label Studio answers)
    item_id     BIGINT,                        -- the label_queue item answered
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (library_id, photo_a, photo_b)
);

-- Pairs of faces a person judged: must-link (same person) or cannot-link (different people),
-- kept by the people index through every re-clustering (curation/faces/people.py).
CREATE TABLE IF NOT EXISTS face_links (
    library_id  INTEGER NOT NULL,
    face_a      VARCHAR NOT NULL,              -- face_a < face_b
    face_b      VARCHAR NOT NULL,
    same_person BOOLEAN NOT NULL,
    source      VARCHAR NOT NULL,              -- label (Label Studio answers) | edit (People page moves)
    position    INTEGER NOT NULL,              -- order made: a later must-link gives way to earlier constraints
    PRIMARY KEY (library_id, face_a, face_b)
);
