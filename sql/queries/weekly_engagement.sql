-- title: Weekly engagement and orders
-- description: Impressions, opens, edits and photobook orders per week: summer trips and
--   the run-up to Christmas show here.
-- param: start_date DATE = NULL  first day (NULL: from the beginning)
-- param: end_date DATE = NULL  last day included (NULL: to the end)
-- param: country VARCHAR = NULL  ISO country code such as DE (NULL: all)
-- chart: line x=week y=opens,edits,orders
SELECT date_trunc('week', day)::DATE AS week,
       sum(impressions)::BIGINT AS impressions,
       sum(opens)::BIGINT       AS opens,
       sum(shares)::BIGINT      AS shares,
       sum(edits)::BIGINT       AS edits,
       sum(orders)::BIGINT      AS orders,
       sum(revenue_eur)         AS revenue_eur
FROM daily_engagement
WHERE day >= coalesce($start_date, DATE '1970-01-01')
  AND day <= coalesce($end_date, DATE '9999-12-30')
  AND ($country IS NULL OR country = upper($country) OR country = lower($country))
GROUP BY ALL
ORDER BY week;
