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
