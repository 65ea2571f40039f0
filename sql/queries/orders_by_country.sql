-- title: Photobook orders by country
-- description: Orders, buyers and revenue (EUR at the reference rates in fx_rates) per
--   country in the period, with orders per 1,000 users of that country.
-- param: start_date DATE = NULL  first order day (NULL: from the beginning)
-- param: end_date DATE = NULL  last order day included (NULL: to the end)
-- param: top INTEGER = 25  countries to show, by revenue
-- chart: bar x=country y=revenue_eur
WITH base AS (
    SELECT country, count(*) AS users FROM users GROUP BY country
), o AS (
    SELECT u.country, o.user_id, o.value_eur
    FROM orders o JOIN users u USING (user_id)
    WHERE o.ts >= coalesce($start_date, DATE '1970-01-01')
      AND o.ts < coalesce($end_date, DATE '9999-12-30') + INTERVAL 1 DAY
)
SELECT o.country,
       count(*)                               AS orders,
       count(DISTINCT o.user_id)              AS buyers,
       sum(o.value_eur)                       AS revenue_eur,
       avg(o.value_eur)                       AS avg_order_eur,
       1000.0 * count(*) / any_value(b.users) AS orders_per_1k_users
FROM o JOIN base b USING (country)
GROUP BY o.country
ORDER BY revenue_eur DESC
LIMIT $top;
