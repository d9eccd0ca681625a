-- avg-of-bigint-is-numeric (numeric division and avg: numeric at the scale PostgreSQL picks for each quotient)
SELECT avg(target_count) FROM experiments
;;
-- avg-per-group-ordered-by-alias
SELECT kind, avg(target_count) AS a FROM experiments GROUP BY kind ORDER BY a DESC, kind
;;
-- avg-per-group-ordered-by-position
SELECT kind, avg(target_count) FROM experiments GROUP BY kind ORDER BY 2, 1
;;
-- avg-per-group-ordered-by-expression
SELECT kind, avg(injected_count) FROM experiments GROUP BY kind ORDER BY avg(injected_count) DESC, 1
;;
-- avg-of-double-stays-double
SELECT avg(duration_seconds) FROM experiments
;;
-- avg-of-values
SELECT avg(x), sum(x) FROM (VALUES (1), (2)) v(x)
;;
-- avg-of-numeric-values
SELECT avg(x) FROM (VALUES (1.5), (2.25)) v(x)
;;
-- avg-filter-distinct
SELECT avg(x::int) FILTER (WHERE x > 1), avg(DISTINCT x::int) FROM (VALUES (1), (2), (2), (5)) v(x)
;;
-- avg-over-window
SELECT x, avg(x::int) OVER (ORDER BY x) FROM (VALUES (1), (2), (2), (5)) v(x) ORDER BY x
;;
-- avg-of-no-rows
SELECT avg(x::int) FROM (VALUES (1), (2)) v(x) WHERE false
;;
-- rounded-avg
SELECT kind, count(*), round(avg(target_count), 1) FROM experiments GROUP BY 1 HAVING avg(target_count) > 1.5 ORDER BY 1
;;
-- percent-of-sums
SELECT 100.0 * sum(injected_count) / sum(target_count), round(100.0 * sum(injected_count) / sum(target_count), 1) FROM experiments
;;
-- numeric-literal-division
SELECT 7.0 / 2, 5 / 2.0, 2 / 3.0, 1 / 3.0, -7.0 / 2, 0 / 3.0, 10000 / 3.0, 0.005 / 7
;;
-- exponent-literals-are-numeric
SELECT 1e5, 1.5e-3, 1.50e1, 1e5::float8, 2e0, 1e5 / 3
;;
-- count-times-numeric
SELECT count(*) * 1.0 / 3, count(*)::numeric / 7 FROM experiments
;;
-- numeric-cast-divided
SELECT cast(1 AS decimal(10,2)) / 3, x::numeric / 3 FROM (VALUES (1)) v(x)
;;
-- numeric-division-by-zero
SELECT 1.0 / 0
;;
-- numeric-division-grouped-by-position
SELECT x / 4.0 AS q, count(*) FROM (VALUES (1), (3), (1)) v(x) GROUP BY 1 ORDER BY 1
;;
-- subquery-column-averaged
SELECT avg(n), sum(n) FROM (SELECT target_count AS n FROM experiments) s
;;
-- numeric-quotient-inside-an-expression
SELECT avg(target_count) * 100, kind FROM experiments GROUP BY kind ORDER BY kind
;;
-- to-char-number-templates
SELECT to_char(1234.5, 'FM999999.99'), to_char(42, '0000'), to_char(1234567, '9,999,999'), to_char(3.14159, '999.99'), to_char(-0.5, '999.99'), to_char(12345, '9,999'), to_char(0, 'FM999.99'), to_char(2.5::float8, '999'), to_char(999.995, '999.99'), to_char(-1234.567, '9G999D99'), to_char(0.125::float8, 'FM990.00'), to_char(NULL::numeric, '999')
;;
-- to-char-number-of-columns
SELECT to_char(target_count, 'FM000'), to_char(duration_seconds, '999,999.9') FROM experiments ORDER BY name LIMIT 5
;;
-- to-char-number-pattern-chaosql-does-not-write
SELECT to_char(1234, 'S9999')
;;
-- ratio-guarded-by-nullif
SELECT kind, 1.0 * sum(injected_count) / nullif(sum(target_count), 0) FROM experiments GROUP BY kind ORDER BY 1

;;
-- case-values-keep-their-scale (a numeric keeps each value's own scale: 1, not 1.0)
SELECT CASE WHEN true THEN 1 ELSE 2.5 END, coalesce(1, 2.5), coalesce(NULL, 1.50, 2)
;;
-- case-values-keep-their-scale-per-row
SELECT x, CASE WHEN x > 2 THEN 1.5 ELSE 2 END AS c FROM (VALUES (1), (3), (5)) v(x) ORDER BY c, x
;;
-- case-values-ordered-by-position
SELECT x, CASE WHEN x > 2 THEN 1.5 ELSE 2.25 END FROM (VALUES (1), (3), (5)) v(x) ORDER BY 2 DESC, 1
;;
-- case-values-of-groups
SELECT kind, CASE WHEN count(*) > 30 THEN 1 ELSE 0.5 END AS w FROM experiments GROUP BY kind ORDER BY 1
;;
-- case-values-in-a-filter
SELECT count(*) FROM (VALUES (1), (3), (5)) v(x) WHERE CASE WHEN x > 2 THEN 1.5 ELSE 2 END > 1.7
;;
-- case-values-of-one-scale
SELECT CASE WHEN x > 2 THEN 1 ELSE 0 END, coalesce(NULL, 2.50, 1.25) FROM (VALUES (1), (3)) v(x) ORDER BY 1
;;
-- mixed-scales-inside-an-expression
SELECT CASE WHEN x > 2 THEN 1.5 ELSE 2 END + 1 FROM (VALUES (1), (3), (5)) v(x)
;;
-- mixed-scales-of-greatest
SELECT greatest(1.5, 2), least(1, 0.50)

;;
-- values-of-different-scales
SELECT x FROM (VALUES (1.5), (2.25)) v(x) ORDER BY 1
;;
-- values-of-different-scales-min-max
SELECT min(x), max(x) FROM (VALUES (1.5), (2.25)) v(x)
;;
-- values-of-different-scales-counted-and-compared
SELECT count(x), count(*) FILTER (WHERE x > 2), sum(x), avg(x) FROM (VALUES (1.5), (2.25), (3)) v(x)
;;
-- power-of-a-numeric
SELECT power(2, 0.5), 2.0 ^ 10
;;
-- power-of-integers-and-doubles
SELECT 2 ^ 10, power(2, 3), power(2.0::float8, 0.5::float8)
;;
-- stddev-and-variance
SELECT stddev(x), variance(x) FROM (VALUES (1), (2), (3), (4)) v(x)
;;
-- stddev-of-a-double-column
SELECT stddev(duration_seconds) FROM experiments

;;
-- values-of-different-scales-star
SELECT * FROM (VALUES (1.5), (2.25)) v(x)
;;
-- values-of-different-scales-counted
SELECT count(*) FROM (VALUES (1.5), (2.25)) v(x)
-- numeric-field-overflow-of-a-literal (issue 12: a value beyond numeric(p,s) is 22003, as PostgreSQL says it)
SELECT 12345.678::numeric(5,2)
;;
-- numeric-field-overflow-of-a-column
SELECT x::numeric(5,2) FROM (VALUES (12345.678), (1.500)) v(x)
;;
-- numeric-field-overflow-by-rounding
SELECT cast(999.995 AS numeric(5,2))
;;
-- numeric-nan (issue 12: numeric's NaN and infinities are numeric, not double precision)
SELECT 'nan'::numeric, ' NaN '::numeric AS x, '-Infinity'::numeric, 'inf'::numeric
;;
-- numeric-nan-inside-an-expression
SELECT 'NaN'::numeric + 1
;;
-- width-bucket-numeric (issue 12: width_bucket, numeric exactly, double precision as float.c computes it)
SELECT width_bucket(5.35, 0.024, 10.06, 5), width_bucket(5.35::float8, 0.024, 10.06, 5), width_bucket(5, 0, 10, 2)
;;
-- width-bucket-grid
SELECT x, width_bucket(x::float8, 10, 100, 9) AS flt, width_bucket(x::numeric, 10, 100, 9) AS num, width_bucket(x, 10, 100, 9) AS i, width_bucket(x, 100, 10, 9) AS rev FROM generate_series(0, 110, 10) x ORDER BY x
;;
-- width-bucket-at-inexact-boundaries
SELECT op, width_bucket(op, 0.3, 0.9, 3), width_bucket(op::float8, 0.3, 0.9, 3), width_bucket(op::float8, 0.1, 0.7, 6), width_bucket(op, 0.1, 0.7, 6) FROM (VALUES (0.3), (0.5), (0.7), (0.9), (0.4), (0.6)) v(op) ORDER BY 1
;;
-- width-bucket-of-columns
SELECT width_bucket(duration_seconds, 0, 10000, 4) AS b, width_bucket(target_count, 0, 10, 4) AS t, count(*) FROM experiments GROUP BY 1, 2 ORDER BY 1, 2
;;
-- width-bucket-array
SELECT op, width_bucket(op, ARRAY[1, 3, 5, 10.0]), width_bucket(op::float8, ARRAY[0, 5.5, 9.99]::float8[]) FROM (VALUES (-5.2), (1.0), (2.0), (3.0), (10.0), (10.1)) v(op) ORDER BY 1
;;
-- width-bucket-null
SELECT width_bucket(NULL, 1, 10, 2), width_bucket(5, NULL, 10, 2), width_bucket(5, ARRAY[]::int[])
;;
-- width-bucket-equal-bounds
SELECT width_bucket(5, 1, 1, 3)
;;
-- width-bucket-no-buckets
SELECT width_bucket(5, 1, 10, 0)
;;
-- width-bucket-nan
SELECT width_bucket('nan'::float8, 1, 10, 2)
;;
-- width-bucket-infinite-bound
SELECT width_bucket(5, 'infinity'::float8, 10, 2)
;;
-- width-bucket-null-threshold
SELECT width_bucket(5, ARRAY[1, NULL, 10])
;;
-- double-to-numeric-column (issue 12: a double cast to numeric is numeric, its 15 significant digits, as PostgreSQL converts it)
SELECT x::numeric FROM (VALUES (0.1::float8 + 0.2::float8), (1e-5::float8), (1.5e20::float8), (123456789.123456789::float8), (1e-20::float8), (-2.5::float8), (0::float8)) v(x)
;;
-- double-to-numeric-aggregates
SELECT sum(duration_seconds)::numeric, avg(duration_seconds)::numeric, 'nan'::float8::numeric FROM experiments
;;
-- double-to-numeric-ordered-and-grouped
SELECT duration_seconds::numeric AS d, count(*) FROM experiments GROUP BY 1 ORDER BY 1 DESC NULLS LAST LIMIT 4
;;
-- round-of-a-double-as-numeric (rounded half away from zero from the 15 digits: 2.675 is 2.68, 1.005 is 1.01)
SELECT round(x::numeric, 2), round(x::numeric, 1), round(x::numeric) FROM (VALUES (2.675::float8), (1.005::float8), (0.125::float8), (2.5::float8), (-0.5::float8)) v(x)
;;
-- round-of-an-average-as-numeric
SELECT kind, round(avg(duration_seconds)::numeric, 2) AS a FROM experiments GROUP BY kind ORDER BY a DESC NULLS LAST, kind LIMIT 4
;;
-- double-to-numeric-inside-an-expression
SELECT (0.1::float8 + 0.2::float8)::numeric * 2
;;
-- union-of-one-scale
SELECT 1.5 UNION ALL SELECT 2.5 UNION ALL SELECT 3.5
;;
-- union-of-integers-and-numeric-sums
SELECT count(*) FROM experiments UNION ALL SELECT sum(target_count) FROM experiments
;;
-- union-of-different-scales
SELECT 1 AS a UNION ALL SELECT 2.5 ORDER BY 1
;;
-- double-to-numeric-distinct (0.1 + 0.2 and 0.3 are one numeric)
SELECT DISTINCT x::numeric FROM (VALUES (0.1::float8 + 0.2::float8), (0.3::float8), (2.5::float8), (10::float8)) v(x) ORDER BY 1
