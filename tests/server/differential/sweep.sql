-- date-trunc-hour-buckets
SELECT date_trunc('hour', created_at) AS t, count(*) FROM experiments GROUP BY 1 ORDER BY 1 LIMIT 3
;;
-- date-trunc-in-a-zone
SELECT date_trunc('day', created_at, 'Asia/Kolkata') AS t, count(*) FROM experiments GROUP BY 1 ORDER BY 1 LIMIT 3
;;
-- date-trunc-week
SELECT date_trunc('week', created_at) AS t, count(*) FROM experiments GROUP BY 1 ORDER BY 1 LIMIT 3
;;
-- date-trunc-month-quarter-year
SELECT date_trunc('month', TIMESTAMP '2026-11-20 12:34:56'), date_trunc('quarter', DATE '2026-11-20'), date_trunc('year', TIMESTAMPTZ '2026-11-20 12:00+00')
;;
-- generate-series-hours
SELECT g AS t FROM generate_series(TIMESTAMPTZ '2026-11-20 00:00+00', TIMESTAMPTZ '2026-11-20 03:00+00', interval '1 hour') g
;;
-- generate-series-days-as-dates
SELECT g::date FROM generate_series(DATE '2026-11-01', DATE '2026-11-04', interval '1 day') g
;;
-- extract-epoch-dow-week
SELECT extract(epoch FROM TIMESTAMPTZ '2026-11-20 12:00:00.5+00'), extract(epoch FROM interval '1 day 2 hours'), extract(dow FROM DATE '2026-11-22'), extract(isodow FROM DATE '2026-11-22'), extract(week FROM DATE '2026-01-01'), extract(quarter FROM DATE '2026-11-20')
;;
-- date-part-epoch-of-a-column
SELECT date_part('epoch', created_at) FROM experiments ORDER BY name LIMIT 2
;;
-- epoch-five-minute-buckets
SELECT floor(extract(epoch FROM created_at) / 300) * 300 AS b, count(*) FROM experiments GROUP BY 1 ORDER BY 1 LIMIT 3
;;
-- to-timestamp-of-epoch
SELECT to_timestamp(1700000000), to_timestamp(1700000000.5)
;;
-- coalesce-nullif-types
SELECT coalesce(NULL, 1, 2.5), coalesce(NULL::int, 2), nullif(1, 1), nullif('a', 'b'), coalesce(NULL, 'x')
;;
-- split-part
SELECT split_part('a,b,c', ',', 2), split_part('a,b,c', ',', -1), split_part('a,b,c', ',', 5)
;;
-- left-right
SELECT left('hello', 2), right('hello', 2), left('hello', -2), right('hello', -2)
;;
-- lpad-rpad
SELECT lpad('5', 3, '0'), rpad('ab', 5, 'xy'), lpad('hello', 2), lpad('x', 0)
;;
-- initcap-upper-lower-ascii
SELECT initcap('hello wORLD foo-bar o''neil'), upper('straße'), lower('ÀB')
;;
-- position-strpos
SELECT position('b' IN 'abc'), strpos('abc', 'c'), strpos('abc', 'x'), position('' IN 'abc')
;;
-- translate-replace-reverse-repeat
SELECT translate('12345', '143', 'ax'), replace('abcabc', 'b', ''), reverse('abc'), repeat('ab', 3)
;;
-- trims-and-lengths
SELECT btrim('  x  '), ltrim('xxyx', 'x'), rtrim('x  '), trim(both 'x' from 'xaxx'), length('héllo'), char_length('abc'), bit_length('ab')
;;
-- string-agg-ordered
SELECT string_agg(kind, ',' ORDER BY kind DESC) FROM (SELECT DISTINCT kind FROM experiments) t
;;
-- array-agg-ordered
SELECT array_agg(kind ORDER BY kind) FROM (SELECT DISTINCT kind FROM experiments) t
;;
-- array-agg-distinct-sorted
SELECT array_agg(DISTINCT phase) FROM experiments
;;
-- string-agg-distinct-sorted
SELECT string_agg(DISTINCT phase, '|') FROM experiments
;;
-- round-numeric-half-away
SELECT round(2.5), round(3.5), round(-2.5), round(2.345, 2), round(2.355, 2), round(-2.345, 2), round(1234.5, -2)
;;
-- round-double-half-even
SELECT round(2.5::float8), round(3.5::float8), round(0.5::float8), round(2.675::float8 * 100) / 100
;;
-- text-to-int-with-spaces
SELECT ' 42 '::int, '42'::int8, ' -7'::smallint
;;
-- text-to-int-with-inner-space
SELECT '4 2'::int
;;
-- empty-text-to-int
SELECT ''::int
;;
-- boolean-text-forms
SELECT 'yes'::bool, 'on'::boolean, 'off'::bool, '1'::bool, '0'::bool, 'y'::bool, 'N'::bool
;;
-- sum-int4-beyond-int4
SELECT sum(x) FROM (VALUES (2147483647), (1)) v(x)
;;
-- int4-addition-overflow
SELECT 2147483647 + 1
;;
-- int2-addition-overflow
SELECT 32767::int2 + 1::int2
;;
-- int8-addition-overflow
SELECT 9223372036854775807::int8 + 1
;;
-- modulo-of-negatives
SELECT -5 % 3, 5 % -3, -5.5 % 2, mod(-5, 3), mod(-5.5, 2)
;;
-- div-and-integer-division
SELECT div(-7, 2), div(7.5, -2), 7 / -2, -7 / 2
;;
-- ceil-floor-trunc-types
SELECT ceil(2.1), floor(-2.1), ceil(2.1::float8), floor(2), ceiling(-0.5), trunc(2.7), trunc(-2.789, 2)
;;
-- to-char-month-buckets
SELECT to_char(created_at, 'YYYY-MM') AS m, count(*) FROM experiments GROUP BY 1 ORDER BY 1
;;
-- to-char-number-fm
SELECT to_char(1234.5, 'FM9999.00'), to_char(0.5, '0.99')
;;
-- greatest-least
SELECT greatest(1, 2, 3), least('a', 'b'), greatest(1.5, 2.5)
;;
-- date-arithmetic
SELECT DATE '2026-11-20' + 7, DATE '2026-11-20' - DATE '2026-01-01', DATE '2026-11-20' + interval '1 month', TIMESTAMP '2026-01-31' + interval '1 month'
;;
-- make-date-timestamp-interval
SELECT make_date(2026, 11, 20), make_timestamp(2026, 11, 20, 12, 30, 15.5), make_interval(days => 3)
;;
-- filter-percent
SELECT count(*) FILTER (WHERE phase = 'running') AS r, count(*) AS n, round(100.0 * count(*) FILTER (WHERE phase = 'running') / count(*), 1) AS pct FROM experiments
;;
-- window-rank-row-number
SELECT kind, count(*), rank() OVER (ORDER BY count(*) DESC), row_number() OVER (ORDER BY kind) FROM experiments GROUP BY kind ORDER BY kind
;;
-- window-sum-of-counts
SELECT kind, sum(count(*)) OVER () FROM experiments GROUP BY kind ORDER BY kind LIMIT 2
;;
-- percentiles
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_seconds), percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_seconds) FROM experiments
;;
-- bool-and-or
SELECT bool_and(duration_seconds > 0), bool_or(duration_seconds > 0) FROM experiments
;;
-- casts-to-int-rounding
SELECT CAST(3.7 AS int), CAST(-3.5 AS int), CAST(2.5 AS int), 3.5::int2, '3.7'::numeric::int
;;
-- real-values
SELECT 1::float4 / 3, 0.1::float4, 1e10::float4, 100000000::float4
;;
-- decimal-and-double-sums
SELECT 0.1 + 0.2, 0.1::float8 + 0.2::float8, 1/3::float8
;;
-- concat-forms
SELECT concat_ws('-', 'a', NULL, 'b'), concat('a', 1, NULL, 2.5), 'a' || 1 || 2.5
;;
-- array-to-string
SELECT array_to_string(ARRAY[1, NULL, 3], ','), array_to_string(ARRAY[1, NULL, 3], ',', '*'), string_to_array('a,b', ',')
;;
-- like-ilike
SELECT 'abc' LIKE 'a%', 'abc' ILIKE 'A%', 'a_c' LIKE 'a\_c', 'abc' NOT LIKE '%d'
;;
-- extract-hour-minute
SELECT EXTRACT(HOUR FROM TIMESTAMP '2026-11-20 12:34:56'), EXTRACT(MINUTE FROM created_at) FROM experiments ORDER BY name LIMIT 1
;;
-- between-in-distinct
SELECT 5 BETWEEN 1 AND 10, 'b' BETWEEN 'a' AND 'c', NULL::int IS DISTINCT FROM 1, 1 IN (1, NULL), 2 NOT IN (1, NULL)
;;
-- values-casts-to-text
SELECT x::text, x::varchar, x::numeric FROM (VALUES (1.50)) v(x)
;;
-- double-to-text
SELECT 1.0::float8::text, 1e20::float8::text, 123456789.123::float8, 1e-5::float8, 0.1::real::float8
;;
-- sign-types
SELECT bit_length('ab'), sign(-3), sign(2.5), sign(-2.5::float8), sign(duration_seconds) FROM experiments ORDER BY name LIMIT 1
;;
-- double-text-in-concatenation
SELECT 0.1::float8 + 0.2::float8 || '', 'v=' || 2.5::float8, concat('a', 3::float8), 1e15::float8::text, 1234567890123456::float8::text, 'nan'::float8::text, '-inf'::float8::varchar, sum(duration_seconds)::text FROM experiments
;;
-- filter-count-percent
SELECT round(100.0 * count(*) FILTER (WHERE phase = 'running') / count(*), 1) AS pct, 100.0 * count(*) FILTER (WHERE phase = 'running') / count(*) FROM experiments
;;
-- array-agg-distinct-with-null
SELECT kind, array_agg(DISTINCT phase), array_agg(DISTINCT x) FROM experiments, (VALUES (NULL), ('b'), ('a')) v(x) GROUP BY kind ORDER BY kind LIMIT 3
;;
-- log-of-two-arguments
SELECT log(2, 8)
;;
-- sqrt-of-a-numeric
SELECT sqrt(2.0), log(100.0)
;;
-- to-number
SELECT to_number('1,234.5', '9,999.9')
;;
-- log10-of-int-and-double
SELECT log10(1000), log10(2.5::float8), log(1000)
;;
-- bi-sweep-01
SELECT CAST(date_trunc('day', created_at) AS date) AS d, count(*) AS c FROM experiments GROUP BY 1 ORDER BY 1 LIMIT 3
;;
-- bi-sweep-02
SELECT (date_trunc('week', (created_at + INTERVAL '1 day')) - INTERVAL '1 day') AS w, count(*) FROM experiments GROUP BY 1 ORDER BY 1 LIMIT 2
;;
-- bi-sweep-03
SELECT extract(year FROM created_at) AS y, extract(month FROM created_at) AS m, count(*) FROM experiments GROUP BY 1, 2 ORDER BY 1, 2
;;
-- bi-sweep-04
SELECT CAST(extract(hour FROM created_at) AS integer) AS h, count(*) FROM experiments GROUP BY 1 ORDER BY 1 LIMIT 3
;;
-- bi-sweep-05
SELECT floor(extract(epoch FROM created_at)/60)*60 AS "time", count(*) FROM experiments GROUP BY 1 ORDER BY 1 LIMIT 2
;;
-- bi-sweep-06
SELECT extract(epoch FROM date_trunc('minute', created_at))::bigint AS t FROM experiments ORDER BY 1 LIMIT 2
;;
-- bi-sweep-07
SELECT to_timestamp(floor(extract(epoch FROM created_at) / 3600) * 3600) AS t, count(*) FROM experiments GROUP BY 1 ORDER BY 1 LIMIT 2
;;
-- bi-sweep-08
SELECT kind, count(*) AS "count" FROM experiments GROUP BY kind ORDER BY "count" DESC, kind LIMIT 5
;;
-- bi-sweep-09
SELECT kind AS kind, avg(duration_seconds) AS avg FROM experiments GROUP BY kind ORDER BY avg DESC NULLS LAST, kind LIMIT 3
;;
-- bi-sweep-10
SELECT count(DISTINCT kind), count(DISTINCT namespace) FROM experiments
;;
-- bi-sweep-11
SELECT min(created_at), max(created_at), max(created_at) - min(created_at) FROM experiments
;;
-- bi-sweep-12
SELECT avg(target_count), sum(target_count), min(target_count), max(target_count) FROM experiments
;;
-- bi-sweep-13
SELECT sum(target_count)::float / count(*), avg(target_count)::float8, avg(target_count)::int FROM experiments
;;
-- bi-sweep-14
SELECT CASE WHEN target_count > 2 THEN 'many' WHEN target_count > 0 THEN 'few' ELSE 'none' END AS b, count(*) FROM experiments GROUP BY 1 ORDER BY 1
;;
-- bi-sweep-15
SELECT "kind", "phase", count(*) FROM "public"."experiments" GROUP BY "kind", "phase" ORDER BY "kind", "phase" LIMIT 4
;;
-- bi-sweep-16
SELECT * FROM experiments WHERE created_at >= TIMESTAMP '2020-01-01' AND kind IN ('PodChaos', 'NetworkChaos') ORDER BY name LIMIT 2
;;
-- bi-sweep-17
SELECT name FROM experiments WHERE name ILIKE '%KILL%' ORDER BY name LIMIT 2
;;
-- bi-sweep-18
SELECT lower(kind), upper(phase), length(name), substr(name, 1, 5), substring(name, 3), substring(name FROM 2 FOR 3) FROM experiments ORDER BY name LIMIT 2
;;
-- bi-sweep-19
SELECT trim(name), concat(kind, '/', name), kind || '/' || name FROM experiments ORDER BY name LIMIT 1
;;
-- bi-sweep-20
SELECT coalesce(duration_seconds, 0), coalesce(duration_seconds, 0.5), nullif(target_count, 0) FROM experiments ORDER BY name LIMIT 2
;;
-- bi-sweep-21
SELECT 1::int4 / 0
;;
-- bi-sweep-22
SELECT 1.0 / 0
;;
-- bi-sweep-23
SELECT 1::float8 / 0
;;
-- bi-sweep-24
SELECT 5 / 2, 5 % 2, 5.0 / 2, -5 / 2, 5 / -2.0
;;
-- bi-sweep-25
SELECT 2147483647::int4 * 2
;;
-- bi-sweep-26
SELECT sum(x) FROM (VALUES (9223372036854775807::int8), (1::int8)) v(x)
;;
-- bi-sweep-27
SELECT -32768::int2, (-32768)::int2 * -1::int2
;;
-- bi-sweep-28
SELECT 7 & 3, 7 | 8, 7 # 2, ~7, 1 << 4, 256 >> 2
;;
-- bi-sweep-29
SELECT round(1.005, 2), round(2.675, 2), round(-0.5), round(0.5), round(1.5), round(-1.5), round(12.345, 1)
;;
-- bi-sweep-30
SELECT round(123.456, -1), round(-123.456, -2), round(5, -1), round(15, -1), round(25::numeric, -1)
;;
-- bi-sweep-31
SELECT trunc(123.456, -1), trunc(-1.5), trunc(1.999::float8), ceil(-0.1), floor(0.1::float8)
;;
-- bi-sweep-32
SELECT 'true'::bool, 'TRUE'::bool, ' t '::bool, 'f'::bool, 'false'::bool
;;
-- bi-sweep-33
SELECT 'maybe'::bool
;;
-- bi-sweep-34
SELECT '1.0'::int
;;
-- bi-sweep-35
SELECT '  12  '::bigint, '+5'::int, '-0'::int
;;
-- bi-sweep-36
SELECT '12abc'::int
;;
-- bi-sweep-37
SELECT '2026-11-20 12:00:00+05:30'::timestamptz, '2026-11-20T12:00:00Z'::timestamptz
;;
-- bi-sweep-38
SELECT '1 day'::interval, '2 hours 30 minutes'::interval, '1.5 days'::interval, '-1 day'::interval
;;
-- bi-sweep-39
SELECT '{1,2,3}'::int[], '{a,b}'::text[], ARRAY[1,2]::text[]
;;
-- bi-sweep-40
SELECT array_position(ARRAY['a','b','c'], 'b'), array_remove(ARRAY[1,2,1], 1), array_cat(ARRAY[1], ARRAY[2])
;;
-- bi-sweep-41
SELECT x FROM unnest(ARRAY[3,1,2]) WITH ORDINALITY AS t(x, n) ORDER BY n
;;
-- bi-sweep-42
SELECT generate_series(1, 3) AS n, generate_series(1, 3) * 2
;;
-- bi-sweep-43
SELECT n, n * 1.5 FROM generate_series(1, 3) n
;;
-- bi-sweep-44
SELECT date_trunc('hour', g) FROM generate_series(TIMESTAMP '2026-11-20 00:30', TIMESTAMP '2026-11-20 02:30', INTERVAL '1 hour') g
;;
-- bi-sweep-45
SELECT to_char(123.456, '999.99'), to_char(-5, '999'), to_char(1234567, '9,999,999'), to_char(0.1, 'FM0.00')
;;
-- bi-sweep-46
SELECT string_agg(name, ', ') FROM (SELECT name FROM experiments ORDER BY name LIMIT 3) t
;;
-- bi-sweep-47
SELECT array_agg(name ORDER BY name DESC) FILTER (WHERE kind = 'PodChaos') FROM experiments
;;
-- bi-sweep-48
SELECT row_to_json(t) FROM (SELECT 1 AS a, 'x' AS b) t
;;
-- bi-sweep-49
SELECT EXISTS (SELECT 1 FROM experiments WHERE kind = 'PodChaos'), (SELECT count(*) FROM experiments) > 0
;;
-- bi-sweep-50
SELECT kind, count(*) FROM experiments GROUP BY ROLLUP (kind) ORDER BY kind NULLS FIRST LIMIT 3
;;
-- bi-sweep-51
SELECT kind, phase, count(*) FROM experiments GROUP BY GROUPING SETS ((kind), (phase)) ORDER BY 1, 2 LIMIT 4
;;
-- bi-sweep-52
SELECT kind, lag(kind) OVER (ORDER BY kind), lead(kind, 1, 'z') OVER (ORDER BY kind), first_value(kind) OVER (ORDER BY kind) FROM (SELECT DISTINCT kind FROM experiments) t ORDER BY kind LIMIT 3
;;
-- bi-sweep-53
SELECT kind, ntile(3) OVER (ORDER BY kind), percent_rank() OVER (ORDER BY kind), cume_dist() OVER (ORDER BY kind), dense_rank() OVER (ORDER BY kind) FROM (SELECT DISTINCT kind FROM experiments) t ORDER BY kind LIMIT 3
;;
-- bi-sweep-54
SELECT avg(duration_seconds) OVER (ORDER BY name ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM experiments ORDER BY name LIMIT 3
;;
-- bi-sweep-55
SELECT avg(target_count) OVER (PARTITION BY kind) FROM experiments ORDER BY name LIMIT 2
;;
-- bi-sweep-56
SELECT mode() WITHIN GROUP (ORDER BY kind) FROM experiments
;;
-- bi-sweep-57
SELECT 'a' = 'a ', 'a'::char(2) = 'a', 'abc' < 'abd', 'Z' < 'a'
;;
-- bi-sweep-58
SELECT NULL = NULL, NULL IS NULL, coalesce(NULL, NULL) IS NULL, NULL::int + 1
;;
-- bi-sweep-59
SELECT CAST(NULL AS text), CAST(NULL AS int), NULL
;;
-- bi-sweep-60
SELECT 1 UNION SELECT 1
;;
-- bi-sweep-61
SELECT x FROM (VALUES (1), (2), (NULL)) v(x) ORDER BY x DESC
;;
-- bi-sweep-62
SELECT x FROM (VALUES ('b'), ('a'), ('B'), (NULL)) v(x) ORDER BY x NULLS FIRST
;;
-- bi-sweep-63
SELECT count(*) FROM experiments e JOIN targets t ON t.kind = e.kind AND t.name = e.name
;;
-- bi-sweep-64
SELECT e.kind, count(t.pod) FROM experiments e LEFT JOIN targets t ON t.name = e.name GROUP BY 1 ORDER BY 1 LIMIT 3
;;
-- round-of-an-integer-with-digits
SELECT round(5, -1), round(15, -1), round(target_count, 1), round(7, 0), round(-25, -1) FROM experiments ORDER BY name LIMIT 1
;;
-- ntile-int4
SELECT kind, ntile(3) OVER (ORDER BY kind), percent_rank() OVER (ORDER BY kind), dense_rank() OVER (ORDER BY kind) FROM (SELECT DISTINCT kind FROM experiments) t ORDER BY kind LIMIT 4
;;
-- corr-and-regressions
SELECT corr(target_count, duration_seconds), regr_slope(duration_seconds, target_count) FROM experiments
;;
-- regr-count
SELECT regr_count(target_count, duration_seconds) FROM experiments
;;
-- ilike-folds-ascii-only
SELECT 'É' ILIKE 'é', 'É' NOT ILIKE 'é', 'A' ILIKE 'a', 'x' ~~* 'X', 'x' !~~* 'X', 'K' ILIKE 'k', 'ſ' ILIKE 'S', 'aÉ%' ILIKE 'A_\%'
;;
-- regex-case-insensitive-folds-ascii-only
SELECT 'É' ~* 'é', 'É' !~* 'é', 'aÉ' ~* 'Aé', 'K' ~* 'k', 'ABC' ~* '^a[B-C]+$', 'AB1' ~* '^[[:alpha:]]+\d$', 'Q' ~* '\W'
;;
-- ilike-of-a-column
SELECT name FROM experiments WHERE name ILIKE '%KILL%' OR kind ~* 'dns' ORDER BY name LIMIT 4
;;
-- initcap-of-a-column
SELECT initcap(name), initcap('ab-cd ef') FROM experiments ORDER BY name LIMIT 2
;;
-- initcap-of-non-ascii
SELECT initcap('élan ÉCOLE')
;;
-- regex-case-insensitive-pattern-of-a-column
SELECT count(*) FROM experiments WHERE name ~* kind
;;
-- json-build-object-text
SELECT json_build_object('a', 1, 'b', 'x'), json_build_object('q', 'he said "hi" \ back', 'n', NULL, 't', true), json_build_object(), json_build_object(1, 2, false, 'x')
;;
-- json-build-object-escapes
SELECT json_build_object('c', E'tab\there\nnl' || chr(1) || chr(11) || chr(31) || chr(127), 'u', 'é€😀', 's', E'a\\u001F/', 'j', '{"x":  1}'::json)
;;
-- json-build-object-nested
SELECT json_build_object('a', json_build_object('b', 'x', 'c', NULL))::text
;;
-- json-build-object-of-columns
SELECT name, json_build_object('kind', kind, 'n', target_count, 'ns', namespace) FROM experiments ORDER BY 1 LIMIT 3
;;
-- json-build-object-errors
SELECT json_build_object('a')
;;
-- json-build-object-null-key
SELECT json_build_object(NULL, 1)
;;
-- json-build-object-of-a-timestamp
SELECT json_build_object('t', created_at, 'd', 1.5) FROM experiments LIMIT 1
;;
-- json-object-agg-text
SELECT kind, json_object_agg(name, target_count ORDER BY name) FROM experiments GROUP BY kind ORDER BY kind LIMIT 3
;;
-- json-object-agg-empty
SELECT json_object_agg(name, kind) FROM experiments WHERE false
;;
-- jsonb-build-object-text
SELECT jsonb_build_object('bb', 1, 'a', 'x', 'a', 2, 'é', true, 'z', NULL), jsonb_build_object()
;;
-- jsonb-build-object-of-a-column-key
SELECT jsonb_build_object(name, 1) FROM experiments LIMIT 1
;;
-- regex-flag-i-ascii
SELECT regexp_match('xA', 'a', 'i'), regexp_match('xA', 'a'), regexp_match('xAB', '(a)(b)', 'ci'), regexp_match('xA', 'a', 'ic'), regexp_replace('Ab', 'a', 'x', 'gi'), regexp_split_to_array('aXbxc', 'x', 'i')
;;
-- regex-flag-i-of-a-column
SELECT regexp_replace(name, 'KILL', 'k', 'i') FROM experiments WHERE name ~ 'kill' ORDER BY name LIMIT 2
;;
-- regexp-match-global-flag
SELECT regexp_match('xA', 'a', 'g')
;;
-- regex-flag-i-of-non-ascii
SELECT regexp_replace('É', 'e', 'x', 'i')
