SELECT name, kind FROM experiments LIMIT 3
;;
SELECT count(*) FROM experiments WHERE kind = 'PodChaos'
;;
SELECT name FROM experiments WHERE target_count > '0'
;;
BEGIN
;;
SELECT
	    typname AS name, oid, typarray AS array_oid,
	    oid::regtype::text AS regtype, typdelim AS delimiter
	FROM pg_type t
	WHERE t.oid = to_regtype('json')
	ORDER BY t.oid
;;
COMMIT
