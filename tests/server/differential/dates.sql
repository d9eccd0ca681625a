-- date-bc (years before 1 are BC, as PostgreSQL writes them)
SELECT DATE '0001-01-01' - 1, DATE '0001-01-01' - 400
;;
-- date-past-9999
SELECT '2026-01-01'::date + 100000000, DATE '12026-01-01'
;;
-- date-far-beside-usual (one far value among usual ones, NULL and infinity)
SELECT x FROM (VALUES (DATE '2026-01-01'), (DATE '0001-01-01' - 400), ('infinity'::date), (NULL::date), (DATE '0500-06-01')) t(x)
;;
-- timestamp-bc
SELECT TIMESTAMP '0001-01-01 00:00:00' - interval '1 day', TIMESTAMP '0001-01-01 00:00:00.25' - interval '2000 years'
;;
-- timestamp-past-9999
SELECT TIMESTAMP '12026-01-01 10:00:00', TIMESTAMPTZ '12026-07-01 10:00:00.5+00'
;;
-- timestamptz-far-beside-usual
SELECT x FROM (VALUES (TIMESTAMPTZ '2026-01-01 00:00+00'), (TIMESTAMPTZ '12026-07-01 10:00:00.5+00'), ('-infinity'::timestamptz), (NULL::timestamptz)) t(x)
;;
-- infinite-dates-and-timestamps
SELECT 'infinity'::date, '-infinity'::date, 'infinity'::timestamp, '-infinity'::timestamp, 'infinity'::timestamptz, '-infinity'::timestamptz
;;
-- array-of-far-dates (a deliberate difference, docs/server.md: refused with 0A000)
SELECT ARRAY['infinity'::date, DATE '12026-01-01']
;;
-- array-of-far-dates-as-text (what the refusal's hint says to do)
SELECT ARRAY['infinity'::date, DATE '12026-01-01']::text[]
;;
-- date-literal-bc (DuckDB spells it (BC))
SELECT DATE '0044-03-15 BC', '0044-03-15 BC'::date
;;
-- date-literal-bc-arithmetic
SELECT DATE '0001-01-01 BC' - 1, DATE '4714-11-24 BC'
;;
-- typed-literal-then-cast (TIMESTAMP 'x'::date is (TIMESTAMP 'x')::date)
SELECT TIMESTAMP '2026-01-01 23:59'::date, DATE '2026-01-01'::timestamp, CAST('2026-01-01'::date AS timestamp), TIMESTAMPTZ '2026-01-01 10:00+00'::date, int '1'::text
;;
-- seconds-with-their-fraction
SELECT extract(second FROM TIMESTAMP '2026-01-01 00:00:07.25'), extract(milliseconds FROM TIMESTAMP '2026-01-01 00:00:07.123456'), date_part('second', TIMESTAMP '2026-01-01 00:00:07.25'), extract(second FROM interval '1 minute 7.5 seconds'), extract(minute FROM TIMESTAMP '2026-01-01 00:03:07.25')
;;
-- to-char-templates (month and day names, FM, quoted text, a percent sign)
SELECT to_char(TIMESTAMP '2026-03-05 14:07:09.25', 'Mon DD, YYYY'), to_char(TIMESTAMP '2026-03-05 14:07:09.25', 'FMMonth FMDD Dy "at" HH24:MI:SS.MS 100%'), to_char(TIMESTAMP '2026-03-05 04:07:09', 'yyyy-mm-dd hh12 AM'), to_char(TIMESTAMP '2026-03-05 14:07:09', 'YYYY-MM-DD"T"HH24:MI:SS'), to_char(DATE '2026-12-31', 'DDD')
;;
-- to-char-template-chaosql-does-not-write (Q: refused, not printed)
SELECT to_char(TIMESTAMP '2026-03-05 14:07:09', 'YYYY-Q')
;;
-- interval-text-with-mixed-signs
SELECT interval '-1 day 02:00', interval '-1 day -02:00', interval '1 day -02:00', interval '-1 year 2 mons', interval '1 year -1 day', interval '-3 days', interval '-00:00:01.5', interval '0'
;;
-- time-text-fraction
SELECT TIME '10:00:01.5', TIME '10:00:01.123456', TIME '10:00:01', TIME '23:59:59.000001'
;;
-- interval-units-duckdb-has-no-keyword-for (DuckDB read INTERVAL '1' MON as one second)
SELECT interval '-1 mon', interval '1 year 2 mons', interval '2 hrs', interval '3 mins', interval '10 secs', interval '1 mon ago'
;;
-- interval-month-arithmetic
SELECT TIMESTAMP '2026-03-31' - interval '1 mon', DATE '2026-01-31' + interval '1 mon'
;;
-- interval-filter-of-a-month
SELECT count(*) FROM experiments WHERE created_at > TIMESTAMPTZ '2026-12-01 00:00:00+00' - interval '1 mon'
;;
-- interval-year-month-and-days-time-forms
SELECT interval '1-2', '-1-2'::interval, interval '3 4:05:06', interval '+1 day', interval '-1 day +02:00:00'
;;
-- interval-iso-8601
SELECT interval 'P1Y2M', interval 'P1DT2H', interval 'PT90M', CAST('P1W' AS interval)

;;
-- interval-field-given-twice
SELECT interval '1 day 1 day'
;;
-- interval-hours-and-a-time
SELECT '1 hour 01:00'::interval
;;
-- interval-fields-given-once
SELECT interval '1 week 1 day', interval '1 second 500 ms', interval '2 days 03:00'

;;
-- justify-hours-and-days
SELECT justify_hours(interval '27 hours'), justify_days(interval '35 days'), justify_hours(interval '-1 day +02:00:00'), justify_hours(interval '1 day -27:00:00.5')
;;
-- justify-signs-and-nulls
SELECT justify_days(interval '1 mon -35 days'), justify_days(interval '-1 mon 65 days 03:00'), justify_hours(interval '2 mons 49:30:15'), justify_days(NULL::interval), justify_hours(interval '-49 hours')
;;
-- clock-timestamp (issue 12: the wall clock, later than the statement's now(), read per row)
SELECT clock_timestamp() > now(), clock_timestamp() - now() < interval '1 minute', count(DISTINCT clock_timestamp()) > 1 FROM generate_series(1, 5000)
;;
-- justify-interval (issue 12: was 42883)
SELECT justify_interval(interval '1 mon -1 day'), justify_interval(interval '-1 mon 1 day'), justify_interval(interval '35 days 27 hours'), justify_interval(interval '-35 days -27 hours'), justify_interval(interval '1 mon -1 hour'), justify_interval(interval '-1 mon 1 hour'), justify_interval(NULL::interval)
;;
-- justify-interval-mixed-signs
SELECT justify_interval(interval '2 days -49:30:00'), justify_interval(interval '1 year 13 mons 61 days 23:59:59.5'), justify_interval(interval '-1 day 25 hours'), date_bin(interval '15 minutes', TIMESTAMP '2026-11-20 12:34:56', TIMESTAMP '2026-01-01')
