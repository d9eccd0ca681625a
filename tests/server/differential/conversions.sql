-- bad-integer (text that is no integer: 22P02)
SELECT 'abc'::int
;;
-- bad-bigint
SELECT 'abc'::bigint
;;
-- empty-integer
SELECT ''::int
;;
-- integer-text-out-of-range (text that is an integer too big for the type: 22003)
SELECT '99999999999'::int
;;
-- bigint-text-out-of-range
SELECT '99999999999999999999'::bigint
;;
-- smallint-text-out-of-range
SELECT '70000'::smallint
;;
-- integer-overflow (arithmetic: 22003)
SELECT 2147483647::int + 1
;;
-- bigint-overflow
SELECT 9223372036854775807::bigint + 1
;;
-- smallint-overflow
SELECT 300::smallint * 300::smallint
;;
-- integer-cast-overflow
SELECT 3000000000::bigint::int
;;
-- bad-numeric
SELECT 'x'::numeric
;;
-- bad-double
SELECT 'x'::float8
;;
-- bad-boolean
SELECT 'x'::boolean
;;
-- bad-uuid
SELECT 'x'::uuid
;;
-- bad-json
SELECT 'x'::jsonb
;;
-- bad-interval (22007)
SELECT 'x'::interval
;;
-- bad-date (22007)
SELECT 'garbage'::date
;;
-- bad-timestamp
SELECT 'garbage'::timestamp
;;
-- bad-time
SELECT 'x'::time
;;
-- date-month-out-of-range (22008)
SELECT '2026-13-01'::date
;;
-- date-day-out-of-range
SELECT '2026-02-30'::date
;;
-- timestamp-hour-out-of-range
SELECT '2026-01-01 25:00:00'::timestamp
;;
-- time-out-of-range
SELECT '25:00'::time
;;
-- numeric-field-overflow
SELECT 100000::numeric(4,1)
;;
-- column-not-an-integer (a value of a chaos table that is no integer)
SELECT name::int FROM experiments
;;
-- text-with-a-fraction-to-integer (DuckDB would round it to 2)
SELECT '1.5'::int
;;
-- double-literal-out-of-range (DuckDB: Infinity)
SELECT '1e400'::float8
;;
-- real-literal-out-of-range
SELECT '1e39'::real
;;
-- text-expression-with-a-fraction-to-integer (a value computed from a chaos table)
SELECT ('1.' || target_count)::int FROM experiments
;;
-- text-expression-to-integer (text that spells an integer is cast)
SELECT (target_count || '')::int AS n, count(*) FROM experiments GROUP BY 1 ORDER BY 1
;;
-- timestamp-literal-bc (a deliberate difference, docs/server.md: refused, DuckDB would read it as AD)
SELECT TIMESTAMP '0044-03-15 12:00 BC'
;;
-- float8-literal-overflow (number literals beyond double precision; text of a type only DuckDB knows cast to an integer; casts that round)
SELECT 1e400::float8
;;
-- float8-negative-literal-overflow
SELECT -1e400::float8
;;
-- real-literal-overflow
SELECT 1e39::real
;;
-- real-literal-overflow-2
SELECT 1e39::real
;;
-- float8-literal-underflow
SELECT 1e-400::float8
;;
-- numeric-literal-beyond-double
SELECT 1e400
;;
-- numeric-literal-beyond-double-cast
SELECT 1e400::numeric
;;
-- cte-text-to-integer
WITH t AS (SELECT '1.5' AS x) SELECT x::int FROM t
;;
-- values-text-to-integer
SELECT x::int FROM (VALUES ('1.5')) v(x)
;;
-- cte-text-integer-spaces
WITH t AS (SELECT ' 12 ' AS x) SELECT x::int FROM t
;;
-- cte-text-exponent-to-bigint
WITH t AS (SELECT '1e3' AS x) SELECT x::bigint FROM t
;;
-- values-text-to-smallint
SELECT x::smallint FROM (VALUES ('2.5')) v(x)
;;
-- cte-null-to-integer
WITH t AS (SELECT NULL AS x) SELECT x::int FROM t
;;
-- cte-columns-of-other-types-to-integer
WITH t AS (SELECT '-12' AS x, 3 AS y, 2.5 AS z) SELECT x::int, y::int, z::int, (y+1)::bigint FROM t
;;
-- subquery-text-to-integer
SELECT (SELECT '1.5')::int
;;
-- numeric-to-integer-overflow
SELECT 3000000000.5::int
;;
-- numeric-to-int-rounds-half-away
SELECT 2.5::int
;;
-- negative-numeric-to-int
SELECT (-2.5)::int
;;
-- text-numeric-to-int
SELECT '2.5'::numeric::int
;;
-- float-to-int-half-even
SELECT 2.5::float8::int
;;
-- negative-float-to-int
SELECT (-2.5)::float8::int
;;
-- numeric-column-to-int
SELECT x::int FROM (VALUES (2.5),(-2.5),(3.5)) v(x)
;;
-- float-column-to-int
SELECT x::int FROM (VALUES (2.5::float8),(-2.5::float8),(3.5::float8)) v(x)
;;
-- numeric-to-bigint
SELECT 2.5::bigint
;;
-- numeric-to-smallint
SELECT 2.5::smallint
;;
-- hex-text-to-int
SELECT '0x10'::int
;;
-- underscore-text-to-int
SELECT '1_000'::int
;;
-- float-to-int-overflow
SELECT 3e9::float8::int
;;
