SELECT name, kind FROM experiments LIMIT 3
;;
SELECT count(*) FROM experiments WHERE kind = 'PodChaos'
