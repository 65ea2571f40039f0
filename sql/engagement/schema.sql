-- Engagement database (DuckDB): cleaned tables, built from raw exports by
-- curation/engagement/clean.py (rules and counts in docs/engagement.md).
-- All times are UTC. `ts` is when it happened on the device (corrected where the device
-- clock was implausible), `server_ts` is when our servers received it.

CREATE TYPE event_type AS ENUM ('impression', 'open', 'share', 'edit');

CREATE TABLE users (
    user_id     BIGINT NOT NULL,
    country     VARCHAR NOT NULL,          -- ISO 3166-1 alpha-2, upper case; 'unknown' when missing
    language    VARCHAR,                   -- BCP 47 primary tag of the app language
    signup_at   TIMESTAMP,
    platform    VARCHAR                    -- ios | android | web
);

-- The albums dimension. In the curation store this is `albums`; see docs/engagement.md
-- ("Albums dimension") for the column mapping. album_id is the id the app and the store
-- use (the store's is VARCHAR, "<library_id>-<kind>-<key>"); facts refer to albums by
-- album_key, a dense integer given at build time, so 10 M events join on 4 bytes.
CREATE TABLE albums (
    album_key       INTEGER NOT NULL,
    album_id        VARCHAR NOT NULL,
    library_id      BIGINT,                -- whose photo library it was made from
    kind            VARCHAR NOT NULL,      -- trip | event | person | together | theme | year | on_this_day
    theme           VARCHAR NOT NULL,      -- 'none' when the store has none
    title_generator VARCHAR NOT NULL,      -- grounded | llm
    created_at      TIMESTAMP
);

CREATE TABLE events (
    event_id     BIGINT NOT NULL,          -- client-made, unique after cleaning
    user_id      BIGINT NOT NULL,
    album_key    INTEGER NOT NULL,         -- albums.album_key
    event_type   event_type NOT NULL,
    ts           TIMESTAMP NOT NULL,       -- device time, or server_ts where the device clock lied
    server_ts    TIMESTAMP NOT NULL,
    ts_corrected BOOLEAN NOT NULL          -- true where ts was replaced by server_ts
);

CREATE TABLE orders (
    order_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    album_key  INTEGER NOT NULL,           -- albums.album_key
    ts         TIMESTAMP NOT NULL,
    value      DECIMAL(14, 2) NOT NULL,    -- in `currency`
    currency   VARCHAR NOT NULL,           -- ISO 4217, upper case
    value_eur  DOUBLE NOT NULL             -- value * fx_rates.eur_per_unit
);

CREATE TABLE assignments (
    user_id     BIGINT NOT NULL,
    experiment  VARCHAR NOT NULL,
    variant     VARCHAR NOT NULL,
    assigned_at TIMESTAMP NOT NULL
);

-- Rows cleaning would not keep, with the rule that stopped them.
CREATE TABLE quarantine_events (
    event_id   BIGINT,
    user_id    BIGINT,
    album_id   VARCHAR,                    -- as the export had it
    event_type VARCHAR,
    ts         TIMESTAMP,
    server_ts  TIMESTAMP,
    reason     VARCHAR NOT NULL            -- incomplete_event | unknown_event_type | unknown_user | unknown_album
);

CREATE TABLE quarantine_orders (
    order_id BIGINT,
    user_id  BIGINT,
    album_id VARCHAR,
    ts       TIMESTAMP,
    value    DECIMAL(14, 2),
    currency VARCHAR,
    reason   VARCHAR NOT NULL              -- incomplete_order | unknown_currency | unknown_album
);

CREATE TABLE quarantine_assignments (
    user_id     BIGINT,
    experiment  VARCHAR,
    variant     VARCHAR,
    assigned_at TIMESTAMP,
    reason      VARCHAR NOT NULL           -- conflicting_variants
);

-- What each cleaning rule did on the last build.
CREATE TABLE cleaning_log (
    rule        VARCHAR NOT NULL,
    table_name  VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,          -- dropped | fixed | quarantined | bucketed
    rows        BIGINT NOT NULL,
    description VARCHAR NOT NULL
);

-- Reference exchange rates for reporting revenue in EUR. Static, illustrative rates
-- (mid-2025); a real deployment replaces this table with finance's dated rates.
CREATE TABLE fx_rates (
    currency     VARCHAR PRIMARY KEY,
    eur_per_unit DOUBLE NOT NULL
);

INSERT INTO fx_rates VALUES
    ('AED', 0.25), ('ARS', 0.00095), ('AUD', 0.60), ('BGN', 0.511), ('BRL', 0.17),
    ('CAD', 0.67), ('CHF', 1.05), ('CLP', 0.00097), ('COP', 0.00023), ('CZK', 0.040),
    ('DKK', 0.134), ('EGP', 0.019), ('EUR', 1.0), ('GBP', 1.17), ('HKD', 0.118),
    ('HUF', 0.0025), ('IDR', 0.000057), ('ILS', 0.25), ('INR', 0.011), ('ISK', 0.0066),
    ('JPY', 0.0061), ('KES', 0.0071), ('KRW', 0.00067), ('MAD', 0.092), ('MXN', 0.050),
    ('MYR', 0.20), ('NGN', 0.0006), ('NOK', 0.085), ('NZD', 0.55), ('PEN', 0.25),
    ('PHP', 0.016), ('PLN', 0.23), ('RON', 0.20), ('RSD', 0.0085), ('SAR', 0.245),
    ('SEK', 0.087), ('SGD', 0.68), ('THB', 0.026), ('TRY', 0.027), ('TWD', 0.028),
    ('UAH', 0.022), ('USD', 0.92), ('VND', 0.000036), ('ZAR', 0.050);
