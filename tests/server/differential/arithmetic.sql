-- round-numeric-half (rounding, integer division and modulo of negatives, overflow, NULL in concatenation, text order, substr)
SELECT round(2.5)
;;
-- round-negative-numeric-half
SELECT round(-2.5)
;;
-- round-float-half-even
SELECT round(2.5::float8)
;;
-- round-negative-float-half-even
SELECT round(-2.5::float8)
;;
-- negative-integer-division
SELECT -7/2
;;
-- integer-division-by-negative
SELECT 7/(-2)
;;
-- negative-modulo
SELECT -7 % 2
;;
-- modulo-by-negative
SELECT 7 % -2
;;
-- negative-int4-modulo
SELECT -7::int % 3
;;
-- numeric-modulo
SELECT -7.5 % 2
;;
-- abs-int-min
SELECT abs(-2147483648::int)
;;
-- int4-multiplication-overflow
SELECT 100000::int * 100000::int
;;
-- integer-literal-multiplication-overflow
SELECT 100000 * 100000
;;
-- int4-column-multiplication-overflow
SELECT x * x FROM (VALUES (100000)) v(x)
;;
-- bigint-overflow-2
SELECT 9223372036854775807 * 2
;;
-- int-min-divided-by-minus-one
SELECT (-2147483648)::int / (-1)::int
;;
-- concat-operator-null
SELECT 'a' || NULL
;;
-- concat-function-null
SELECT concat('a', NULL)
;;
-- order-of-mixed-case-text
SELECT x FROM (VALUES ('a'),('B'),('b'),('A'),('_x'),('1')) v(x) ORDER BY x
;;
-- text-comparison-case
SELECT 'a' < 'B'
;;
-- trunc-negative
SELECT trunc(-2.5)
;;
-- ceil-negative
SELECT ceil(-2.5)
;;
-- floor-negative
SELECT floor(-2.5)
;;
-- round-to-places
SELECT round(2.345, 2)
;;
-- round-to-negative-places
SELECT round(1234.5, -2)
;;
-- substr-start-before-string
SELECT substr('abcdef', 0), substr('abcdef', -2, 4), substring('abcdef' from -1 for 3), substring('abcdef' from 2), substr('abcdef', 2, 0), substr('abc', x, 2) FROM (VALUES (-1), (0), (2)) v(x) ORDER BY x
;;
-- substr-negative-length
SELECT substr('abc', 1, -1)
;;
-- round-numeric-column
SELECT round(x) FROM (VALUES (2.5), (-2.5), (0.5)) v(x)
;;
-- left-negative
SELECT left('abcd', -1)
;;
-- split-part-past-end
SELECT split_part('a,b', ',', 3)
;;
-- round-float-column-half-even
SELECT round(x) FROM (VALUES (2.5::float8), (-2.5::float8), (0.5::float8), (1.5::float8)) v(x)
;;
-- round-real-and-aggregates
SELECT round(avg(x)), round(sum(x)), round(max(x) + 1) FROM (VALUES (2.5::float8), (2.5::float8)) v(x)
;;
-- sqrt-of-negative
SELECT sqrt(-1)
;;
-- sqrt-of-negative-column
SELECT sqrt(x) FROM (VALUES (4.0::float8), (-1.0::float8)) v(x)
;;
-- sqrt-ln-log-power-in-their-domain
SELECT sqrt(2.25::float8), ln(1), log(100), 2 ^ 10, power(-8, 3), power(2::float8, -1), 0 ^ 0, sqrt('NaN'::float8)
;;
-- ln-of-zero
SELECT ln(0)
;;
-- ln-of-negative
SELECT ln(-1::float8)
;;
-- log-of-zero
SELECT log(0)
;;
-- log10-of-negative-column
SELECT log10(x) FROM (VALUES (-10)) v(x)
;;
-- negative-number-to-fractional-power
SELECT (-8) ^ (1.0/3)
;;
-- zero-to-negative-power
SELECT power(0, -1)
;;
-- float8-overflow-is-an-error
SELECT 1e308::float8 * 10
;;
-- float8-overflow-in-a-chain
SELECT 1e308::float8 * 10 * 0
;;
-- float8-overflow-of-sum-and-quotient
SELECT 1e308::float8 + 1e308::float8, 1e308::float8 / 1e-10::float8
;;
-- float8-overflow-of-a-column
SELECT max(duration_seconds * 1e307::float8) FROM experiments
;;
-- float8-infinity-stays-infinity
SELECT 'Infinity'::float8 * 2, '-Infinity'::float8 + 1, duration_seconds * 2.5 FROM experiments ORDER BY 3 LIMIT 2
;;
-- smallest-int4-literal
SELECT -2147483648, -9223372036854775808, -2147483648 + 1
;;
-- smallest-int4-literal-overflows
SELECT -2147483648 - 1
;;
-- smallest-int8-literal-overflows
SELECT -9223372036854775808 - 1
;;
-- float8-underflow-multiplication (issue 12: PostgreSQL checks each float8 operation for underflow and overflow)
SELECT 1e-300::float8 * 1e-300
;;
-- float8-underflow-division
SELECT 1e-300::float8 / 1e300
;;
-- float8-underflow-of-a-column
SELECT x * 1e-300::float8 FROM (VALUES (1e-300::float8)) v(x)
;;
-- float8-underflow-inside-a-chain
SELECT 1e-300::float8 * 1e-300 * 0
;;
-- float8-zero-operand-is-no-underflow
SELECT x * y, x / 3, 1 / z FROM (VALUES (0::float8, 1e-300::float8, 'infinity'::float8)) v(x, y, z)
;;
-- float8-overflow-next-to-an-infinity
SELECT 1e308::float8 * 10 + 'infinity'::float8
;;
-- float8-infinity-times-two
SELECT 'infinity'::float8 * 2, '-infinity'::float8 - 1e308::float8, 2.5::float8 * 3 - 1 / 4::float8
;;
-- float8-sum-overflow
SELECT sum(x) FROM (VALUES (1e308::float8), (1e308::float8)) v(x)
;;
-- float8-avg-overflow
SELECT avg(x) FROM (VALUES (1e308::float8), (1e308::float8)) v(x)
;;
-- float8-sum-of-an-infinity
SELECT sum(x), avg(x) FROM (VALUES ('infinity'::float8), (1e308::float8)) v(x)
;;
-- float8-sum-of-large-values-of-both-signs
SELECT sum(x) FROM (VALUES (1e308::float8), (-1e308::float8), (1e308::float8)) v(x)
;;
-- float8-sum-of-values-of-both-signs
SELECT sum(x), avg(x) FROM (VALUES (1e150::float8), (-1e150::float8), (2.5::float8)) v(x)
;;
-- float8-avg-of-spread-large-values
SELECT avg(x) FROM (VALUES (1e200::float8), (-1e200::float8)) v(x)
;;
-- float4-sum
SELECT sum(x::real) FROM (VALUES (1.5), (2.25)) v(x)
;;
