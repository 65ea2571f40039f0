-- title: Funnel: shown, opened, edited, ordered
-- description: Memories first shown in the period, and how many of them went on to be
--   opened, then edited, then ordered as a printed book. Each step counts albums that also
--   passed the steps before it (an album ordered without an edit stops at "opened").
-- param: start_date DATE = NULL  first day a Memory was shown (NULL: from the beginning)
-- param: end_date DATE = NULL  last day included (NULL: to the end)
-- param: kind VARCHAR = NULL  album kind: trip, event, person, together, theme, year, on_this_day (NULL: all)
-- param: country VARCHAR = NULL  ISO country code such as DE (NULL: all)
-- chart: funnel x=albums y=step
WITH f AS (
    SELECT coalesce(sum(albums_shown), 0)   AS shown,
           coalesce(sum(albums_opened), 0)  AS opened,
           coalesce(sum(albums_edited), 0)  AS edited,
           coalesce(sum(albums_ordered), 0) AS ordered
    FROM funnel_daily
    WHERE day >= coalesce($start_date, DATE '1970-01-01')
      AND day <= coalesce($end_date, DATE '9999-12-30')
      AND ($kind IS NULL OR kind = lower($kind))
      AND ($country IS NULL OR country = upper($country) OR country = lower($country))
), steps AS (
    SELECT 1 AS step_order, 'shown' AS step, shown AS albums FROM f
    UNION ALL SELECT 2, 'opened', opened FROM f
    UNION ALL SELECT 3, 'edited', edited FROM f
    UNION ALL SELECT 4, 'ordered', ordered FROM f
)
SELECT step_order,
       step,
       albums::BIGINT AS albums,
       albums / nullif(lag(albums) OVER (ORDER BY step_order), 0) AS rate_from_previous,
       albums / nullif(first_value(albums) OVER (ORDER BY step_order), 0) AS rate_from_shown
FROM steps
ORDER BY step_order;
