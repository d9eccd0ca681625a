-- prepare-count (issue 12 #1: EXECUTE of a prepared count)
SELECT count(*) FROM experiments
;;
-- interval-time-part (#2)
SELECT count(*) FROM experiments WHERE created_at > TIMESTAMPTZ '2026-11-20 12:00:00+00' - interval '1 day 12:00:00'
;;
-- interval-literals (#2)
SELECT interval '1 day 12:00:00', interval '2 hours 30 minutes', interval '3 days', interval '1 year 2 mons'
;;
-- integer-division (#3)
SELECT 7/2, -7/2, 7 % 3
;;
-- integer-division-table-named (#3: the answer must not depend on how the table is named)
SELECT 7/2 AS x, count(*) FROM public.experiments
;;
-- integer-division-columns (#3)
SELECT target_count / 2 AS half, count(*) FROM experiments GROUP BY 1 ORDER BY 1
;;
-- division-by-zero (#4)
SELECT 1/0
;;
-- division-by-zero-float (#4)
SELECT 1.5::float8 / 0
;;
-- modulo-by-zero (#4)
SELECT 5 % 0
;;
-- numeric-scale (#5)
SELECT 1.23456::numeric, 12345678901234567890.5::numeric, 2::numeric, '3.10'::numeric
;;
-- numeric-round (#5)
SELECT round(avg(target_count)::numeric, 2) AS avg_targets FROM experiments
;;
-- numeric-of-bigint (#5)
SELECT count(*)::numeric FROM experiments
;;
-- format (#6)
SELECT format('%s-%I-%L', 'a', 'b c', 'it''s'), format('%s|%s', NULL, 1), format('%2$s %1$s', 'a', 'b'), format('100%%')
;;
-- format-metabase (#6: Metabase's describe-fields)
SELECT format('%I.%I', 'public', 'experiments')
;;
-- to-char (#15)
SELECT to_char(created_at, 'YYYY-MM-DD') AS day, count(*) FROM experiments GROUP BY 1 ORDER BY 1
;;
-- to-timestamp (#15)
SELECT to_timestamp('2026-11-20 10:30', 'YYYY-MM-DD HH24:MI')
;;
-- unknown-function (#15: 42883)
SELECT no_such_function(1)
;;
-- jsonb-literal (#14)
SELECT '{"b": 1, "a": [1, 2]}'::jsonb
;;
-- regclass-text (#20)
SELECT 'experiments'::regclass::text
;;
-- names-count (#17)
SELECT count(*) FROM experiments
;;
-- names-expressions (#17)
SELECT 1, 'a', 'a'::text, 1::int, kind::text, upper(kind), coalesce(kind, 'x'), CASE WHEN paused THEN 1 ELSE 0 END, (SELECT 1 AS one), max(created_at) FROM experiments GROUP BY kind, paused ORDER BY kind, 8 LIMIT 3
;;
-- names-subquery (#17)
SELECT * FROM (SELECT count(*), kind FROM experiments GROUP BY kind) s ORDER BY kind
;;
-- text-oid (text is oid 25, an explicit varchar 1043)
SELECT name, 'x' || name AS prefixed, name::varchar AS v FROM experiments ORDER BY name LIMIT 3
;;
-- group-by-error (42803)
SELECT name, count(*) FROM experiments
;;
-- syntax-error (42601)
SELEC 1
;;
-- unknown-column (42703)
SELECT nmae FROM experiments
;;
-- unknown-table (42P01)
SELECT * FROM no_such_table
;;
-- bigint-sum (numeric in both)
SELECT sum(target_count), min(target_count), max(target_count) FROM experiments
;;
-- booleans-and-nulls
SELECT paused, count(*) FROM experiments GROUP BY paused ORDER BY paused
;;
-- timestamps
SELECT name, created_at FROM experiments ORDER BY created_at, name LIMIT 5
;;
-- dates
SELECT created_at::date AS day, count(*) FROM experiments GROUP BY 1 ORDER BY 1
;;
-- extract
SELECT extract(hour FROM created_at) AS h, count(*) FROM experiments GROUP BY 1 ORDER BY 1
;;
-- extract-epoch
SELECT extract(epoch FROM TIMESTAMPTZ '2026-11-20 12:00:00.5+00')
;;
-- date-part
SELECT date_part('hour', TIMESTAMPTZ '2026-11-20 12:00:00+00')
;;
-- floats
SELECT 100.0::float8, 0.1::float8 + 0.2::float8, 1e20::float8, 1234567890123456::float8, 1.5e-7::float8
;;
-- text-array
SELECT name, containers FROM pods ORDER BY name LIMIT 3
;;
-- arrays (#6: lists are PostgreSQL arrays, not JSON text)
SELECT ARRAY[1, 2]::int8[], ARRAY[1.5, NULL]::float8[], ARRAY['a', 'b c', NULL], ARRAY[true, false], name, containers FROM pods ORDER BY name LIMIT 3
;;
-- array-functions
SELECT array_length(containers, 1) AS n, containers[1] AS first, cardinality(containers) FROM pods ORDER BY name LIMIT 3
;;
-- error-syntax (errors carry PostgreSQL's position, P, and say "syntax error" once)
SELEC name FROM experiments
;;
-- error-unknown-column
SELECT name FROM experiments WHERE kind = 'PodChaos' AND nmae = 'x'
;;
-- error-unknown-qualified-column
SELECT e.nmae FROM experiments e
;;
-- error-unknown-table
SELECT count(*) FROM experiments e JOIN no_such_table n ON true
;;
-- error-unknown-catalog-column
SELECT relname FROM pg_catalog.pg_class WHERE no_such_column = 1
;;
-- error-unknown-type
SELECT 1::no_such_type
;;
-- error-group-by
SELECT name, kind FROM experiments GROUP BY kind
;;
-- information-schema-list-columns (a list column is data_type ARRAY, udt_name _text, as in PostgreSQL)
SELECT column_name, data_type, udt_name, ordinal_position FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'pods' ORDER BY ordinal_position
;;
-- format-type-list-columns (psql's \d: text[], jsonb)
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 'pods' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
;;
-- pg-typeof (PostgreSQL's type names; sent as text, not regtype: a documented difference)
SELECT pg_typeof(name), pg_typeof(labels), (SELECT pg_typeof(containers) FROM pods LIMIT 1), pg_typeof(1), pg_typeof(1.5), pg_typeof(count(*) OVER ()), pg_typeof(created_at), pg_typeof(TIMESTAMPTZ '2026-11-20 12:00:00+00' - created_at), pg_typeof(paused), pg_typeof(7/2), pg_typeof(1.5::float8), pg_typeof(NULL) FROM experiments ORDER BY name LIMIT 1
;;
-- float-text-edges (shortest round-trip text, exponents, signed zero, NaN and infinities)
SELECT x FROM (VALUES (1e-5::float8), (1e-4::float8), (0.0001234::float8), (1e15::float8), (1e16::float8), (123456789012345680::float8), (-0.0::float8), ('NaN'::float8), ('Infinity'::float8), ('-Infinity'::float8), (0.1::float8 + 0.2::float8), (5e-324::float8), (1.7976931348623157e308::float8), (-2.5e-300::float8), (123456.789::float8), (NULL::float8)) AS t(x)
;;
-- float-text-many (a vector of floats: 1e-5 to 1e15 and beyond in one result)
SELECT x::int8 AS x, x::float8 / 7, x::float8 * 1e-9, x::float8 * 1e12, -x::float8 / 3e5 FROM generate_series(1, 3000) AS t(x) ORDER BY x
;;
-- float4-text
SELECT x::float4 FROM (VALUES (1e-5::float8), (0.1::float8), (3.4e38::float8), (-0.0::float8), ('NaN'::float8), (16777217::float8), (NULL::float8)) AS t(x)
;;
-- timestamptz-text-edges (before 1970 and 1900, microseconds, infinity)
SELECT t FROM (VALUES (TIMESTAMPTZ '1969-07-20 20:17:40.123456+00'), (TIMESTAMPTZ '1900-01-01 00:00:00+00'), (TIMESTAMPTZ '1883-11-18 12:00:00+00'), (TIMESTAMPTZ '2026-11-20 12:00:00.5+00'), (TIMESTAMPTZ '2026-11-20 12:00:00.000001+00'), (TIMESTAMPTZ '2026-11-20 12:00:00.12+00'), ('infinity'::timestamptz), ('-infinity'::timestamptz), (NULL::timestamptz)) AS v(t)
;;
-- timestamp-text-edges
SELECT t FROM (VALUES (TIMESTAMP '1969-12-31 23:59:59.999999'), (TIMESTAMP '1000-01-01 00:00:00'), (TIMESTAMP '2026-11-20 12:00:00.25'), ('infinity'::timestamp), (NULL::timestamp)) AS v(t)
;;
-- timestamptz-text-many (microseconds, some NULL)
SELECT x::int8 AS x, CASE WHEN x % 7 = 0 THEN NULL ELSE TIMESTAMPTZ '1965-03-01 00:00:00+00' + x * interval '1 day 1 hour 1 second' + x * interval '0.013 seconds' END FROM generate_series(1, 3000) AS t(x) ORDER BY x
;;
-- date-text-edges
SELECT d FROM (VALUES (DATE '1969-12-31'), (DATE '1900-02-28'), ('infinity'::date), ('-infinity'::date), (NULL::date)) AS v(d)
-- like-backslash-escape (PostgreSQL's default LIKE escape is a backslash)
SELECT 'a_c' LIKE 'a\_c', 'abc' LIKE 'a\_c', 'a%' LIKE 'a\%', '50%' ILIKE '%\%', 'a\b' LIKE 'a\\b', 'x' LIKE 'x' ESCAPE '!'
;;
-- like-backslash-escape-on-a-table
SELECT count(*) FROM experiments WHERE name LIKE '%\_%' OR name NOT LIKE '%' || '\%'
;;
-- similar-to-is-sql-pattern (DuckDB read the pattern as a regular expression)
SELECT 'abc' SIMILAR TO 'a%', 'abc' SIMILAR TO 'b%', 'a.c' SIMILAR TO 'a.c', 'abc' SIMILAR TO 'a.c', 'abc' NOT SIMILAR TO '(a|x)bc', 'a_c' SIMILAR TO 'a\_c', 'abc' SIMILAR TO 'a[b-c]+'
;;
-- similar-to-on-a-column
SELECT name FROM experiments WHERE name SIMILAR TO '(frontend|ledger)-%' ORDER BY name LIMIT 3
;;
-- split-part-zero
SELECT split_part('a,b,c', ',', 0)
;;
-- split-part-past-the-end-and-negative
SELECT split_part('a,b,c', ',', 4), split_part('a,b,c', ',', -1)
;;
-- encode-hex-base64
SELECT encode('abc'::bytea, 'hex'), encode('abc'::bytea, 'base64')
;;
-- varchar-and-char-lengths-cut
SELECT 'abc'::varchar(2), 'abc'::char(2), 'a'::char(3) || 'b', 'a'::char(3), format_type(1042, NULL)
;;
-- char-trailing-blanks-do-not-count
SELECT length('ab  '::char(5)), 'ab  '::char(5) = 'ab', 'ab'::char(5) AS padded, upper('ab'::char(4))
;;
-- char-of-a-column
SELECT e.name::varchar(5), e.name::char(40) FROM experiments e ORDER BY e.name LIMIT 2
;;
-- sum-of-bigint-divided-is-numeric
SELECT sum(target_count) / count(*), sum(length(name)) / count(*) FROM experiments
;;
-- ratio-of-sums-per-group
SELECT kind, sum(injected_count) / sum(target_count) AS r FROM experiments GROUP BY kind ORDER BY r, kind
;;
-- percent-of-a-scalar-subquery
SELECT kind, count(*) AS n, round(100.0 * count(*) / (SELECT count(*) FROM experiments), 2) AS pct FROM experiments GROUP BY kind ORDER BY n DESC, kind

;;
-- string-literal-in-arithmetic-takes-the-numbers-type
SELECT '5' + 1, 1 + '5', 2.5 * '2', '1.5' * 2.0, '3' - 1::bigint
;;
-- string-literal-in-arithmetic-not-a-number
SELECT '5.5' + 1
;;
-- string-literal-added-to-a-column
SELECT target_count + '1' FROM experiments ORDER BY name LIMIT 2
;;
-- array-and-element
SELECT ARRAY[1,2] || 3, 0 || ARRAY[1,2], ARRAY[1] || ARRAY[2]
;;
-- octet-length-of-a-literal
SELECT octet_length('héllo'), octet_length('')
;;
-- substring-from-a-regular-expression
SELECT substring('foobar' FROM 'o.b'), substring('foobar' FROM 'o(.)b'), substring('foobar' FROM 'x'), substring('foobar' FROM 2), substring('foobar' FROM 2 FOR 3)
;;
-- substring-of-a-column-from-a-regular-expression
SELECT substring(name FROM '-(.*)$') FROM experiments ORDER BY name LIMIT 3
;;
-- regex-dot-matches-newline (issue 12: PostgreSQL's ARE syntax, translated where RE2 spells it otherwise)
SELECT substring(E'a\nb' FROM 'a.b'), E'a\nb' ~ '^a.b$', E'a\x0bb' ~ 'a\sb', 'a.b' ~ '\y', 'xyz' ~ 'x\Y', 'x' ~ '[]x]', 'ab' ~ 'b\Z'
;;
-- regex-replace-and-match
SELECT regexp_replace('abc', '(b)', '\1\1'), regexp_replace('abc', 'b', '[\&]'), regexp_replace('a b  c', '\s+', '-', 'g'), regexp_match('abc', '(b)'), regexp_match('abc', 'b'), regexp_match('abc', 'x'), regexp_match('a1b22', '([a-z])(\d+)'), regexp_count('abcabc', 'b')
;;
-- regex-on-a-chaos-table
SELECT regexp_replace(name, '-[0-9a-z]+$', '') AS base, count(*) FROM experiments WHERE name ~* 'KILL|corrupt' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5
;;
-- regex-back-reference
SELECT substring('foobar' FROM '(o)\1')
;;
-- regex-non-greedy
SELECT 'abc' ~ 'a*?'
;;
-- regex-backspace-escape
SELECT 'a' ~ '\b'
;;
-- regex-word-start
SELECT 'abc' ~ '[[:<:]]abc'
;;
-- regex-embedded-options
SELECT 'abc' ~ '(?i)ABC'
;;
-- regex-pattern-of-a-column
SELECT name ~ kind, name ~ (SELECT '^p.d'), count(*) FROM experiments GROUP BY 1, 2 ORDER BY 1, 2
;;
-- regex-pattern-known-when-run
SELECT count(*) FROM experiments WHERE name ~ (SELECT '(a)\1')
;;
-- regexp-matches-set
SELECT regexp_matches('abc', '(b)')
;;
-- regexp-match-optional-part
SELECT regexp_match('ab', '(a)(x)?')
