-- title: Retention by signup cohort
-- description: Users grouped by signup month; the share of each cohort that was active
--   (opened, shared or edited a Memory, or ordered) in each month after signup. Cohorts
--   that signed up before the data starts are left out unless start_month says otherwise.
-- param: start_month DATE = NULL  first signup month (NULL: the first month with data)
-- param: end_month DATE = NULL  last signup month (NULL: all)
-- param: max_months INTEGER = 12  months after signup to show
-- chart: heatmap x=months_since_signup y=cohort z=retention
SELECT cohort,
       cohort_users,
       datediff('month', cohort, month) AS months_since_signup,
       active_users,
       active_users / cohort_users AS retention
FROM cohort_activity
WHERE cohort >= date_trunc('month', coalesce($start_month, (SELECT first_day FROM data_period)))
  AND cohort <= date_trunc('month', coalesce($end_month, DATE '9999-12-01'))
  AND datediff('month', cohort, month) <= $max_months
ORDER BY cohort, months_since_signup;
