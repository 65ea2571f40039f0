-- title: Title strategy A/B test
-- description: Per variant of an experiment: users assigned, and of the albums made for them
--   after their assignment, how many were shown, opened and ordered. Users are randomised,
--   albums are measured, so the sum_* columns (over exposed users) let
--   curation.engagement.experiments.analyze_experiment compute a variance that allows for
--   one user's albums being alike (delta method).
-- param: experiment VARCHAR = title_strategy  experiment name (title_strategy, cover_layout)
-- chart: bar x=variant y=open_rate
SELECT variant,
       count(*)                                                        AS users,
       count(*) FILTER (WHERE albums_shown > 0)                        AS exposed_users,
       sum(albums_shown)::BIGINT                                       AS albums_shown,
       sum(albums_opened)::BIGINT                                      AS albums_opened,
       sum(albums_opened) / nullif(sum(albums_shown), 0)               AS open_rate,
       sum(albums_ordered)::BIGINT                                     AS albums_ordered,
       sum(albums_ordered) / nullif(sum(albums_shown), 0)              AS order_rate,
       sum(revenue_eur)                                                AS revenue_eur,
       sum(albums_opened * albums_opened)::BIGINT                      AS sum_opened_sq,
       sum(albums_shown * albums_shown)::BIGINT                        AS sum_shown_sq,
       sum(albums_opened * albums_shown)::BIGINT                       AS sum_opened_shown
FROM experiment_users
WHERE experiment = $experiment
GROUP BY variant
ORDER BY variant;
