-- title: Open rate by album kind
-- description: Of the Memories first shown in the period, the share that were opened, per
--   album kind, with a 95 % Wilson interval. An album counts once however often it was shown.
-- param: start_date DATE = NULL  first day a Memory was shown (NULL: from the beginning)
-- param: end_date DATE = NULL  last day included (NULL: to the end)
-- param: country VARCHAR = NULL  ISO country code such as DE, or unknown (NULL: all)
-- param: platform VARCHAR = NULL  ios, android or web (NULL: all)
-- chart: bar x=kind y=open_rate error_low=open_rate_low error_high=open_rate_high
WITH shown AS (
    SELECT kind,
           sum(albums_shown)  AS albums_shown,
           sum(albums_opened) AS albums_opened,
           sum(impressions)   AS impressions,
           sum(opens)         AS opens
    FROM funnel_daily
    WHERE day >= coalesce($start_date, DATE '1970-01-01')
      AND day <= coalesce($end_date, DATE '9999-12-30')
      AND ($country IS NULL OR country = upper($country) OR country = lower($country))
      AND ($platform IS NULL OR platform = lower($platform))
    GROUP BY kind
), rates AS (
    SELECT *, albums_opened / albums_shown AS p, 1.959963984540054 AS z FROM shown
)
SELECT kind,
       albums_shown::BIGINT AS albums_shown,
       albums_opened::BIGINT AS albums_opened,
       p AS open_rate,
       (p + z * z / (2 * albums_shown) - z * sqrt(p * (1 - p) / albums_shown + z * z / (4 * albums_shown * albums_shown)))
           / (1 + z * z / albums_shown) AS open_rate_low,
       (p + z * z / (2 * albums_shown) + z * sqrt(p * (1 - p) / albums_shown + z * z / (4 * albums_shown * albums_shown)))
           / (1 + z * z / albums_shown) AS open_rate_high,
       opens / impressions AS opens_per_impression
FROM rates
ORDER BY open_rate DESC;
