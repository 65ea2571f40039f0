-- title: Themes that drive orders
-- description: For Memories opened in the period, per theme: how many were ordered as a
--   book, the order rate with a 95 % Wilson interval, its lift over all themes, and
--   revenue (EUR). Themes with fewer than min_albums opened albums are left out.
-- param: start_date DATE = NULL  first day a Memory was opened (NULL: from the beginning)
-- param: end_date DATE = NULL  last day included (NULL: to the end)
-- param: min_albums INTEGER = 200  smallest number of opened albums for a theme to be shown
-- chart: bar x=theme y=lift
WITH f AS (
    SELECT theme, albums_opened, albums_ordered, revenue_eur
    FROM theme_orders_daily
    WHERE day >= coalesce($start_date, DATE '1970-01-01')
      AND day <= coalesce($end_date, DATE '9999-12-30')
), overall AS (
    SELECT sum(albums_ordered) / sum(albums_opened) AS rate, sum(revenue_eur) AS revenue FROM f
), themes AS (
    SELECT theme, sum(albums_opened) AS albums_opened, sum(albums_ordered) AS albums_ordered,
           sum(revenue_eur) AS revenue_eur, 1.959963984540054 AS z
    FROM f GROUP BY theme
    HAVING sum(albums_opened) >= $min_albums
), rates AS (
    SELECT *, albums_ordered / albums_opened AS p FROM themes
)
SELECT theme,
       albums_opened::BIGINT AS albums_opened,
       albums_ordered::BIGINT AS albums_ordered,
       p AS order_rate,
       (p + z * z / (2 * albums_opened) - z * sqrt(p * (1 - p) / albums_opened + z * z / (4 * albums_opened * albums_opened)))
           / (1 + z * z / albums_opened) AS order_rate_low,
       (p + z * z / (2 * albums_opened) + z * sqrt(p * (1 - p) / albums_opened + z * z / (4 * albums_opened * albums_opened)))
           / (1 + z * z / albums_opened) AS order_rate_high,
       p / nullif(o.rate, 0) AS lift,
       revenue_eur,
       revenue_eur / nullif(o.revenue, 0) AS revenue_share
FROM rates, overall o
ORDER BY lift DESC;
