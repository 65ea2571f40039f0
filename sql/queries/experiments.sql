-- title: Experiments and their variants
-- description: Every experiment in the assignments, with users per variant and when users
--   were assigned: the choices for the A/B analysis (title_strategy_ab's experiment).
-- chart: bar x=experiment y=users color=variant
SELECT experiment,
       variant,
       count(*)         AS users,
       min(assigned_at) AS first_assigned_at,
       max(assigned_at) AS last_assigned_at
FROM assignments
GROUP BY ALL
ORDER BY experiment, variant;
