-- true (result column names as PostgreSQL's FigureColname gives them: types, functions, keywords)
SELECT true
;;
-- false
SELECT false
;;
-- int-cast
SELECT 1::int
;;
-- text-cast
SELECT 'a'::text
;;
-- cast-bigint
SELECT CAST(1 AS bigint)
;;
-- varchar3
SELECT 'abc'::varchar(3)
;;
-- jsonb
SELECT '{}'::jsonb
;;
-- array
SELECT ARRAY[1]
;;
-- case
SELECT CASE WHEN 1=1 THEN 1 END
;;
-- coalesce
SELECT COALESCE(1,2)
;;
-- greatest
SELECT GREATEST(1,2)
;;
-- least
SELECT LEAST(1,2)
;;
-- nullif
SELECT NULLIF(1,2)
;;
-- exists
SELECT EXISTS(SELECT 1)
;;
-- subq
SELECT (SELECT 1)
;;
-- subq-named
SELECT (SELECT 1 AS a)
;;
-- isnull
SELECT 1 IS NULL
;;
-- op
SELECT 1+1
;;
-- count
SELECT count(*) FROM experiments
;;
-- dot
SELECT e.name FROM experiments e ORDER BY 1 LIMIT 1
;;
-- func
SELECT length('a')
;;
-- upper
SELECT upper('a')
;;
-- interval
SELECT interval '1 day'
;;
-- date
SELECT DATE '2020-01-01'
;;
-- curdate
SELECT current_date = current_date
;;
-- curuser
SELECT current_user
;;
-- sessuser
SELECT session_user
;;
-- curschema
SELECT current_schema
;;
-- user
SELECT user
;;
-- not
SELECT NOT true
;;
-- and
SELECT true AND false
;;
-- neg
SELECT -1
;;
-- null
SELECT NULL
;;
-- str
SELECT 'a'
;;
-- in
SELECT 1 IN (1,2)
;;
-- between
SELECT 1 BETWEEN 0 AND 2
;;
-- like
SELECT 'a' LIKE 'a'
;;
-- ts
SELECT TIMESTAMP '2020-01-01'
;;
-- tstz
SELECT TIMESTAMPTZ '2020-01-01 00:00+00'
;;
-- max
SELECT max(1)
;;
-- strpos
SELECT position('a' in 'abc')
;;
-- substring
SELECT substring('abc' from 2)
;;
-- trim
SELECT trim(' a ')
;;
-- extract
SELECT extract(year from DATE '2020-01-01')
;;
-- castint-of-col
SELECT name::text FROM experiments ORDER BY 1 LIMIT 1
;;
-- any
SELECT 1 = ANY(ARRAY[1])
;;
-- arr-sub
SELECT (ARRAY[1,2])[1]
;;
-- float
SELECT 1.5::float8
;;
-- real
SELECT 1.5::real
;;
-- numeric
SELECT 1.5::numeric
;;
-- numeric52
SELECT 1.5::numeric(5,2)
;;
-- smallint
SELECT 1::smallint
;;
-- intarr
SELECT '{1}'::int[]
;;
-- concat
SELECT 'a' || 'b'
;;
-- round
SELECT round(2.5)
;;
-- curtime
SELECT current_time IS NOT NULL
;;
-- curts
SELECT current_timestamp IS NOT NULL
;;
-- curts-bare
SELECT current_timestamp > '2020-01-01'
;;
-- string-agg
SELECT string_agg('a', ',')
;;
-- date-trunc
SELECT date_trunc('day', TIMESTAMP '2020-01-01 10:00')
;;
-- bool-cast
SELECT 't'::boolean
;;
-- uuid
SELECT '00000000-0000-0000-0000-000000000000'::uuid
;;
-- timestamp-cast
SELECT '2020-01-01'::timestamp
;;
-- double-precision
SELECT 1::double precision
;;
-- ts-with-tz
SELECT '2020-01-01 00:00+00'::timestamp with time zone
;;
-- ilike
SELECT 'a' ILIKE 'A'
;;
-- is-true
SELECT true IS TRUE
;;
-- distinct-from
SELECT 1 IS DISTINCT FROM 2
;;
-- coalesce-cast
SELECT COALESCE(1,2)::text
;;
-- cast-of-func
SELECT length('a')::text
;;
-- nested-case
SELECT CASE WHEN true THEN 'a' ELSE 'b'::text END
;;
-- case-col
SELECT CASE WHEN true THEN 'a' ELSE name END FROM experiments ORDER BY 1 LIMIT 1
;;
-- json-arrow
SELECT '{"a":1}'::jsonb ->> 'a'
;;
-- array-agg
SELECT array_agg(1)
;;
-- bigint-lit
SELECT 10000000000
;;
-- numeric-lit
SELECT 1.5
;;
-- xmlish-overlay
SELECT overlay('abc' placing 'x' from 2)
;;
-- row-cast
SELECT count(*)::int FROM experiments
;;
-- paren-op
SELECT (1+1)
;;
-- cast-op
SELECT (1+1)::int
;;
-- collate
SELECT 'a' COLLATE "C"
;;
-- functions-sqlglot-keeps-as-operators
SELECT power(2, 3), 2 ^ 3, mod(7, 2), 7 % 2
;;
-- name-of-filtered-aggregate
SELECT count(*) FILTER (WHERE phase = 'running'), sum(target_count) FILTER (WHERE kind = 'PodChaos') FROM experiments
