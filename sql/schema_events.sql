-- Events stage: events, trips, which photo is in which event, what was left out, the home.
-- Replaced as a whole for a library on every run of the stage (ids are stable across runs).

CREATE TABLE IF NOT EXISTS events (
    library_id       INTEGER NOT NULL,
    event_id         VARCHAR NOT NULL,         -- e<YYYYMMDD-HHMM of its first photo>-<6 hex of that photo's sha256>
    trip_id          VARCHAR,                  -- NULL at home
    start_at         TIMESTAMP NOT NULL,       -- local wall-clock time of the first photo with a reliable time
    end_at           TIMESTAMP NOT NULL,
    local_date       DATE NOT NULL,            -- the first day
    n_days           INTEGER NOT NULL,         -- days of activity (a party past midnight is one)
    n_photos         INTEGER NOT NULL,         -- including photos placed by their neighbours
    lat              DOUBLE,                   -- median of the geotagged photos; NULL without GPS
    lon              DOUBLE,
    city             VARCHAR,                  -- GeoNames place (English/ASCII), also for places taken from neighbours
    region           VARCHAR,                  -- admin1: state, province, district
    country          VARCHAR,                  -- English name
    country_code     VARCHAR,                  -- ISO 3166-1 alpha-2
    place_name       VARCHAR,                  -- named at the right level: city, region, country(s), continent
    season           VARCHAR NOT NULL,         -- spring | summer | autumn | winter (by hemisphere)
    holiday          VARCHAR,                  -- English: Christmas, Easter, New Year's Eve, or a public holiday
    year             INTEGER NOT NULL,
    place_source     VARCHAR NOT NULL,         -- gps | neighbours | none
    home_distance_km DOUBLE,                   -- from the home, when both are known
    PRIMARY KEY (library_id, event_id)
);

CREATE TABLE IF NOT EXISTS trips (
    library_id     INTEGER NOT NULL,
    trip_id        VARCHAR NOT NULL,           -- t<YYYYMMDD of its start>-<6 hex of its first event id>
    start_at       TIMESTAMP NOT NULL,
    end_at         TIMESTAMP NOT NULL,
    nights         INTEGER NOT NULL,
    distance_km    DOUBLE,                     -- farthest event from home
    place_name     VARCHAR,
    countries      VARCHAR[],                  -- English names, in the order visited
    n_events       INTEGER NOT NULL,
    n_photos       INTEGER NOT NULL,
    country_codes  VARCHAR[],                  -- ISO codes, same order
    PRIMARY KEY (library_id, trip_id)
);

CREATE TABLE IF NOT EXISTS photo_events (
    library_id   INTEGER NOT NULL,
    photo_id     BIGINT NOT NULL,
    event_id     VARCHAR NOT NULL,
    placed_by    VARCHAR NOT NULL,             -- time | neighbours
    PRIMARY KEY (library_id, photo_id)
);

-- Photos left out of every event, and why (clutter, no usable capture time, ambiguous).
CREATE TABLE IF NOT EXISTS event_exclusions (
    library_id   INTEGER NOT NULL,
    photo_id     BIGINT NOT NULL,
    reason       VARCHAR NOT NULL,             -- a sentence a person understands ("clutter: screenshot", ...)
    code         VARCHAR,                      -- clutter | no_time | unreliable_time | ambiguous
    PRIMARY KEY (library_id, photo_id)
);

CREATE TABLE IF NOT EXISTS homes (
    library_id   INTEGER PRIMARY KEY,
    lat          DOUBLE,                       -- NULL when the library has too few geotagged days
    lon          DOUBLE,
    place_name   VARCHAR,
    country_code VARCHAR,
    confidence   DOUBLE NOT NULL,              -- 0..1
    method       VARCHAR NOT NULL,             -- gps-days | none
    n_days       INTEGER,                      -- distinct days with geotagged photos near the home
    radius_km    DOUBLE
);
