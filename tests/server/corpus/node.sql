SELECT name, kind FROM experiments LIMIT 3
;;
SELECT count(*)::INTEGER AS n FROM experiments WHERE kind = 'PodChaos'
