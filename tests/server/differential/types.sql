-- date-minus-date-is-int4 (result types PostgreSQL takes from the operands: what a client decodes the value as)
SELECT DATE '2026-01-05' - DATE '2026-01-01', current_date - current_date
;;
-- date-difference-of-columns
SELECT name, now()::date - created_at::date AS age_days FROM experiments ORDER BY name LIMIT 3
;;
-- date-trunc-of-a-date-is-timestamptz
SELECT date_trunc('week', DATE '2026-03-05'), date_trunc('month', DATE '2026-03-05'), date_trunc('month', TIMESTAMP '2026-03-05 10:00')
;;
-- extract-epoch-of-a-date
SELECT extract(epoch FROM DATE '2026-03-05'), extract(epoch FROM TIMESTAMP '2026-03-05 10:00:00.5')
;;
-- real-with-other-numbers-is-float8
SELECT 1::real + 1, 1::real * 2, 1::real - 1, 1::real / 3, 1::real + 1.5, 1::real * 1::real
;;
-- sum-of-int4-is-int8
SELECT sum(x::int), sum(x::smallint), sum(1) FROM (VALUES (1), (2)) v(x)
;;
-- sum-of-length-is-int8
SELECT kind, sum(length(name)) FROM experiments GROUP BY kind ORDER BY kind
;;
-- running-sum-of-int4
SELECT x, sum(x::int) OVER (ORDER BY x) FROM (VALUES (1), (2), (2)) v(x) ORDER BY x
;;
-- jsonb-arrow-is-jsonb
SELECT '{"a":1}'::jsonb -> 'a', '{"a":1}'::json -> 'a', '{"a":{"b":2}}'::jsonb -> 'a' -> 'b'
;;
-- map-column-arrow-is-jsonb
SELECT name, labels -> 'app' AS app, labels ->> 'app' AS app_text FROM experiments ORDER BY name LIMIT 3
;;
-- div-is-numeric
SELECT div(-7, 2), div(7.5, 2), div(7, -2)
;;
-- percentile-names
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_disc(0.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1), (2), (3), (4)) v(x)
;;
-- localtimestamp-and-localtime
SELECT pg_typeof(localtimestamp)::text, pg_typeof(localtime)::text, localtimestamp > '2000-01-01', date_trunc('hour', localtimestamp) = date_trunc('hour', now()::timestamp)
;;
-- every-is-bool-and
SELECT every(x), every(x) FILTER (WHERE x) FROM (VALUES (true), (false)) v(x)
;;
-- boolean-spellings
SELECT 'on'::bool, 'off'::bool, 'yes'::bool, 'no'::bool, 't'::bool, 'f'::bool, '1'::bool, '0'::bool, ' TRUE '::bool, bool 'Of', CAST('y' AS boolean)
;;
-- boolean-bad-spelling
SELECT 'o'::bool
;;
-- boolean-spelling-with-inner-blank
SELECT 'tr ue'::boolean
;;
-- substr-negative-length-of-a-column
SELECT substr('abc', 1, x) FROM (VALUES (-1)) v(x)
;;
-- substr-length-of-a-column
SELECT substr('abc', 1, x), substring('abcdef' from 2 for x) FROM (VALUES (2)) v(x)
;;
-- smallint-with-integer-is-integer
SELECT 1::smallint + 1::smallint, 32767::smallint + 1, 2::smallint * 100000
;;
-- at-time-zone-name
SELECT TIMESTAMP '2026-05-15 10:30' AT TIME ZONE 'UTC', TIMESTAMPTZ '2026-05-15 10:30+00' AT TIME ZONE 'America/New_York'
;;
-- generate-series-of-int4-is-int4
SELECT * FROM generate_series(1, 3)
;;
-- generate-series-scalar-and-aliased
SELECT generate_series(1, 3) AS s, 1 AS one
;;
-- generate-series-column-arithmetic
SELECT x, x * 2 FROM generate_series(1, 5, 2) AS t(x)
;;
-- generate-series-named-by-table-alias
SELECT * FROM generate_series(1, 3) AS g(x), generate_series(1, 2) h ORDER BY 1, 2
;;
-- generate-series-of-bigint
SELECT * FROM generate_series(1::bigint, 3)
;;
-- generate-series-of-dates-is-timestamptz
SELECT d FROM generate_series(DATE '2026-01-01', DATE '2026-01-03', interval '1 day') AS g(d)
;;
-- calendar-joined-to-experiments
SELECT d::date, count(e.name) FROM generate_series(DATE '2026-11-01', DATE '2026-11-05', interval '1 day') AS g(d) LEFT JOIN experiments e ON e.created_at::date = d::date GROUP BY 1 ORDER BY 1

;;
-- char-without-length-is-char-1
SELECT 'abc'::char, 'xyz'::character, CAST('pq' AS char), length('abc'::char), 'abc'::char || 'x'
;;
-- char-without-length-of-a-column
SELECT name::char, kind::char FROM experiments ORDER BY name LIMIT 3
-- pg-typeof-character-types (issue 12: char(n) is character, varchar(n) character varying, a bare literal unknown)
SELECT pg_typeof('a'::char(3)), pg_typeof('a'::varchar(3)), pg_typeof('a'::char), pg_typeof('a'::bpchar), pg_typeof('a'::varchar), pg_typeof('a'::text), pg_typeof('a'), pg_typeof(name::varchar) FROM experiments LIMIT 1
;;
