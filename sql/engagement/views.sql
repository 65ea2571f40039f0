-- Built by curation.engagement.sandbox.build_database after cleaning (schema.sql).
-- Part 1: pre-aggregations, tables rebuilt on every build, so that the named queries read
-- thousands or a few million narrow rows instead of every event (each < 1 s on 2 cores).
-- Part 2: views that join engagement to the albums dimension, for ad-hoc SQL.

-- The period the data covers, by server time (device clocks can be wrong; servers are not).
CREATE OR REPLACE TABLE data_period AS
SELECT min(server_ts)::DATE AS first_day, max(server_ts)::DATE AS last_day, count(*) AS events FROM events;

-- One row per album: how far it got in the funnel (shown -> opened -> edited -> ordered),
-- with its own dimensions and its user's. Times are the first of each step.
CREATE OR REPLACE TABLE album_funnel AS
WITH ev AS (
    SELECT album_key,
           min(user_id)                                          AS user_id,
           min(ts) FILTER (WHERE event_type = 'impression')      AS first_shown_at,
           count(*) FILTER (WHERE event_type = 'impression')     AS impressions,
           min(ts) FILTER (WHERE event_type = 'open')            AS first_opened_at,
           count(*) FILTER (WHERE event_type = 'open')           AS opens,
           min(ts) FILTER (WHERE event_type = 'share')           AS first_shared_at,
           count(*) FILTER (WHERE event_type = 'share')          AS shares,
           min(ts) FILTER (WHERE event_type = 'edit')            AS first_edited_at,
           count(*) FILTER (WHERE event_type = 'edit')           AS edits
    FROM events
    GROUP BY album_key
), ord AS (
    SELECT album_key, min(user_id) AS user_id, min(ts) AS first_ordered_at,
           count(*) AS orders, sum(value_eur) AS revenue_eur
    FROM orders
    GROUP BY album_key
)
SELECT a.album_key, a.album_id, a.library_id, coalesce(ev.user_id, ord.user_id) AS user_id,
       a.kind, a.theme, a.title_generator, a.created_at,
       coalesce(u.country, 'unknown') AS country, u.platform, u.language,
       ev.first_shown_at, coalesce(ev.impressions, 0)::INTEGER AS impressions,
       ev.first_opened_at, coalesce(ev.opens, 0)::INTEGER AS opens,
       ev.first_shared_at, coalesce(ev.shares, 0)::INTEGER AS shares,
       ev.first_edited_at, coalesce(ev.edits, 0)::INTEGER AS edits,
       ord.first_ordered_at, coalesce(ord.orders, 0)::INTEGER AS orders,
       coalesce(ord.revenue_eur, 0) AS revenue_eur
FROM albums a
LEFT JOIN ev USING (album_key)
LEFT JOIN ord USING (album_key)
LEFT JOIN users u ON u.user_id = coalesce(ev.user_id, ord.user_id)
ORDER BY ev.first_shown_at NULLS LAST;

-- One row per user and calendar month with any activity (retention, seasonality).
CREATE OR REPLACE TABLE user_months AS
WITH ev AS (
    SELECT user_id, date_trunc('month', ts)::DATE AS month,
           count(*) FILTER (WHERE event_type = 'impression') AS impressions,
           count(*) FILTER (WHERE event_type = 'open')       AS opens,
           count(*) FILTER (WHERE event_type = 'share')      AS shares,
           count(*) FILTER (WHERE event_type = 'edit')       AS edits
    FROM events
    GROUP BY ALL
), ord AS (
    SELECT user_id, date_trunc('month', ts)::DATE AS month, count(*) AS orders, sum(value_eur) AS revenue_eur
    FROM orders
    GROUP BY ALL
)
SELECT user_id, month,
       coalesce(impressions, 0)::INTEGER AS impressions, coalesce(opens, 0)::INTEGER AS opens,
       coalesce(shares, 0)::INTEGER AS shares, coalesce(edits, 0)::INTEGER AS edits,
       coalesce(orders, 0)::INTEGER AS orders, coalesce(revenue_eur, 0) AS revenue_eur,
       (coalesce(opens, 0) + coalesce(shares, 0) + coalesce(edits, 0) + coalesce(orders, 0)) > 0 AS active
FROM ev FULL OUTER JOIN ord USING (user_id, month)
ORDER BY month;

-- One row per day, country and album kind: event and order counts (trends, seasonality).
CREATE OR REPLACE TABLE daily_engagement AS
WITH ev AS (
    SELECT e.ts::DATE AS day, u.country, a.kind,
           count(*) FILTER (WHERE e.event_type = 'impression') AS impressions,
           count(*) FILTER (WHERE e.event_type = 'open')       AS opens,
           count(*) FILTER (WHERE e.event_type = 'share')      AS shares,
           count(*) FILTER (WHERE e.event_type = 'edit')       AS edits
    FROM events e JOIN albums a USING (album_key) JOIN users u USING (user_id)
    GROUP BY ALL
), ord AS (
    SELECT o.ts::DATE AS day, u.country, a.kind, count(*) AS orders, sum(o.value_eur) AS revenue_eur
    FROM orders o JOIN albums a USING (album_key) JOIN users u USING (user_id)
    GROUP BY ALL
)
SELECT day, country, kind,
       coalesce(impressions, 0)::INTEGER AS impressions, coalesce(opens, 0)::INTEGER AS opens,
       coalesce(shares, 0)::INTEGER AS shares, coalesce(edits, 0)::INTEGER AS edits,
       coalesce(orders, 0)::INTEGER AS orders, coalesce(revenue_eur, 0) AS revenue_eur
FROM ev FULL OUTER JOIN ord USING (day, country, kind)
ORDER BY day;

-- Rollups of album_funnel for the named queries (thousands of rows instead of millions).
-- Grain: day first shown x kind x country x platform. The funnel steps are nested: edited
-- counts albums opened and edited, ordered those opened, edited and ordered.
CREATE OR REPLACE TABLE funnel_daily AS
SELECT first_shown_at::DATE AS day, kind, country, platform,
       count(*)::INTEGER                                                          AS albums_shown,
       count(first_opened_at)::INTEGER                                            AS albums_opened,
       count(*) FILTER (WHERE first_opened_at IS NOT NULL AND first_edited_at IS NOT NULL)::INTEGER AS albums_edited,
       count(*) FILTER (WHERE first_opened_at IS NOT NULL AND first_edited_at IS NOT NULL
                          AND first_ordered_at IS NOT NULL)::INTEGER              AS albums_ordered,
       sum(impressions)::BIGINT                                                   AS impressions,
       sum(opens)::BIGINT                                                         AS opens
FROM album_funnel
WHERE first_shown_at IS NOT NULL
GROUP BY ALL
ORDER BY day;

-- Grain: day first opened x theme.
CREATE OR REPLACE TABLE theme_orders_daily AS
SELECT first_opened_at::DATE AS day, theme,
       count(*)::INTEGER                AS albums_opened,
       count(first_ordered_at)::INTEGER AS albums_ordered,
       sum(revenue_eur)                 AS revenue_eur
FROM album_funnel
WHERE first_opened_at IS NOT NULL
GROUP BY ALL
ORDER BY day;

-- Grain: signup month x activity month: how many of the cohort were active.
CREATE OR REPLACE TABLE cohort_activity AS
WITH cohorts AS (
    SELECT user_id, date_trunc('month', signup_at)::DATE AS cohort FROM users WHERE signup_at IS NOT NULL
), sizes AS (
    SELECT cohort, count(*)::INTEGER AS cohort_users FROM cohorts GROUP BY cohort
)
SELECT c.cohort, m.month, s.cohort_users, count(*)::INTEGER AS active_users
FROM user_months m JOIN cohorts c USING (user_id) JOIN sizes s USING (cohort)
WHERE m.active AND m.month >= c.cohort
GROUP BY ALL
ORDER BY c.cohort, m.month;

-- One row per experiment, user and variant: what happened to the albums made for the user
-- after the assignment (the albums the variant could change).
CREATE OR REPLACE TABLE experiment_users AS
SELECT x.experiment, x.variant, x.user_id, x.assigned_at,
       count(f.album_key)::INTEGER                                  AS albums_created,
       count(f.first_shown_at)::INTEGER                             AS albums_shown,
       count(f.first_opened_at)::INTEGER                            AS albums_opened,
       count(f.first_edited_at)::INTEGER                            AS albums_edited,
       count(f.first_ordered_at)::INTEGER                           AS albums_ordered,
       coalesce(sum(f.revenue_eur), 0)                              AS revenue_eur
FROM assignments x
LEFT JOIN album_funnel f ON f.user_id = x.user_id AND f.created_at >= x.assigned_at
GROUP BY ALL
ORDER BY experiment, variant;

-- Views ---------------------------------------------------------------------------------

-- Every event with its album's and user's dimensions: engagement joined to curation output.
CREATE OR REPLACE VIEW album_events AS
SELECT e.event_id, e.ts, e.server_ts, e.ts_corrected, e.event_type, e.user_id, a.album_id, e.album_key,
       a.library_id, a.kind, a.theme, a.title_generator, a.created_at AS album_created_at,
       u.country, u.language, u.platform, u.signup_at
FROM events e
JOIN albums a USING (album_key)
JOIN users u USING (user_id);

CREATE OR REPLACE VIEW album_orders AS
SELECT o.order_id, o.ts, o.value, o.currency, o.value_eur, o.user_id, a.album_id, o.album_key,
       a.kind, a.theme, a.title_generator, u.country, u.language, u.platform
FROM orders o
JOIN albums a USING (album_key)
JOIN users u USING (user_id);
