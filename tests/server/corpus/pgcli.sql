SELECT 1
;;
SELECT * FROM unnest(current_schemas(true))
;;
SELECT  nspname
	        FROM    pg_catalog.pg_namespace
	        ORDER BY 1
;;
SELECT  n.nspname schema_name,
	                c.relname table_name
	        FROM    pg_catalog.pg_class c
	                LEFT JOIN pg_catalog.pg_namespace n
	                    ON n.oid = c.relnamespace
	        WHERE   c.relkind = ANY('{r,p,f}')
	        ORDER BY 1,2;
;;
SELECT  nsp.nspname schema_name,
	                        cls.relname table_name,
	                        att.attname column_name,
	                        att.atttypid::regtype::text type_name,
	                        att.atthasdef AS has_default,
	                        pg_catalog.pg_get_expr(def.adbin, def.adrelid, true) as default
	                FROM    pg_catalog.pg_attribute att
	                        INNER JOIN pg_catalog.pg_class cls
	                            ON att.attrelid = cls.oid
	                        INNER JOIN pg_catalog.pg_namespace nsp
	                            ON cls.relnamespace = nsp.oid
	                        LEFT OUTER JOIN pg_attrdef def
	                            ON def.adrelid = att.attrelid
	                            AND def.adnum = att.attnum
	                WHERE   cls.relkind = ANY('{r,p,f}')
	                        AND NOT att.attisdropped
	                        AND att.attnum  > 0
	                ORDER BY 1, 2, att.attnum
;;
SELECT s_p.nspname AS parentschema,
	                       t_p.relname AS parenttable,
	                       unnest((
	                        select
	                            array_agg(attname ORDER BY i)
	                        from
	                            (select unnest(confkey) as attnum, generate_subscripts(confkey, 1) as i) x
	                            JOIN pg_catalog.pg_attribute c USING(attnum)
	                            WHERE c.attrelid = fk.confrelid
	                        )) AS parentcolumn,
	                       s_c.nspname AS childschema,
	                       t_c.relname AS childtable,
	                       unnest((
	                        select
	                            array_agg(attname ORDER BY i)
	                        from
	                            (select unnest(conkey) as attnum, generate_subscripts(conkey, 1) as i) x
	                            JOIN pg_catalog.pg_attribute c USING(attnum)
	                            WHERE c.attrelid = fk.conrelid
	                        )) AS childcolumn
	                FROM pg_catalog.pg_constraint fk
	                JOIN pg_catalog.pg_class      t_p ON t_p.oid = fk.confrelid
	                JOIN pg_catalog.pg_namespace  s_p ON s_p.oid = t_p.relnamespace
	                JOIN pg_catalog.pg_class      t_c ON t_c.oid = fk.conrelid
	                JOIN pg_catalog.pg_namespace  s_c ON s_c.oid = t_c.relnamespace
	                WHERE fk.contype = 'f';
;;
SELECT  n.nspname schema_name,
	                c.relname table_name
	        FROM    pg_catalog.pg_class c
	                LEFT JOIN pg_catalog.pg_namespace n
	                    ON n.oid = c.relnamespace
	        WHERE   c.relkind = ANY('{v,m}')
	        ORDER BY 1,2;
;;
SELECT  nsp.nspname schema_name,
	                        cls.relname table_name,
	                        att.attname column_name,
	                        att.atttypid::regtype::text type_name,
	                        att.atthasdef AS has_default,
	                        pg_catalog.pg_get_expr(def.adbin, def.adrelid, true) as default
	                FROM    pg_catalog.pg_attribute att
	                        INNER JOIN pg_catalog.pg_class cls
	                            ON att.attrelid = cls.oid
	                        INNER JOIN pg_catalog.pg_namespace nsp
	                            ON cls.relnamespace = nsp.oid
	                        LEFT OUTER JOIN pg_attrdef def
	                            ON def.adrelid = att.attrelid
	                            AND def.adnum = att.attnum
	                WHERE   cls.relkind = ANY('{v,m}')
	                        AND NOT att.attisdropped
	                        AND att.attnum  > 0
	                ORDER BY 1, 2, att.attnum
;;
SELECT n.nspname schema_name,
	                           t.typname type_name
	                    FROM   pg_catalog.pg_type t
	                           INNER JOIN pg_catalog.pg_namespace n
	                              ON n.oid = t.typnamespace
	                    WHERE ( t.typrelid = 0  -- non-composite types
	                            OR (  -- composite type, but not a table
	                                  SELECT c.relkind = 'c'
	                                  FROM pg_catalog.pg_class c
	                                  WHERE c.oid = t.typrelid
	                                )
	                          )
	                          AND NOT EXISTS( -- ignore array types
	                                SELECT  1
	                                FROM    pg_catalog.pg_type el
	                                WHERE   el.oid = t.typelem AND el.typarray = t.oid
	                              )
	                          AND n.nspname <> 'pg_catalog'
	                          AND n.nspname <> 'information_schema'
	                    ORDER BY 1, 2;
;;
SELECT d.datname
	        FROM pg_catalog.pg_database d
	        ORDER BY 1
;;
SELECT n.nspname schema_name,
	                        p.proname func_name,
	                        p.proargnames,
	                        COALESCE(proallargtypes::regtype[], proargtypes::regtype[])::text[],
	                        p.proargmodes,
	                        prorettype::regtype::text return_type,
	                        p.prokind = 'a' is_aggregate,
	                        p.prokind = 'w' is_window,
	                        p.proretset is_set_returning,
	                        d.deptype = 'e' is_extension,
	                        pg_get_expr(proargdefaults, 0) AS arg_defaults
	                FROM pg_catalog.pg_proc p
	                        INNER JOIN pg_catalog.pg_namespace n
	                            ON n.oid = p.pronamespace
	                LEFT JOIN pg_depend d ON d.objid = p.oid and d.deptype = 'e'
	                WHERE p.prorettype::regtype != 'trigger'::regtype
	                ORDER BY 1, 2
;;
SELECT n.nspname as schema,
	                    c.relname as name,
	                    CASE c.relkind
	                      WHEN 'r' THEN 'table' WHEN 'v' THEN 'view'
	                      WHEN 'p' THEN 'partitioned table'
	                      WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index'
	                      WHEN 'S' THEN 'sequence' WHEN 's' THEN 'special'
	                      WHEN 'f' THEN 'foreign table' END
	                    as type,
	                    pg_catalog.pg_get_userbyid(c.relowner) as owner
	                    
	            FROM    pg_catalog.pg_class c
	                    LEFT JOIN pg_catalog.pg_namespace n
	                      ON n.oid = c.relnamespace
	            WHERE   c.relkind = ANY('{r,p,""}')
	                
	            AND n.nspname <> 'pg_catalog'
	            AND n.nspname <> 'information_schema'
	            AND n.nspname !~ '^pg_toast'
	            AND pg_catalog.pg_table_is_visible(c.oid) 
	                
	            ORDER BY 1, 2
;;
SELECT n.nspname as schema,
	                    c.relname as name,
	                    CASE c.relkind
	                      WHEN 'r' THEN 'table' WHEN 'v' THEN 'view'
	                      WHEN 'p' THEN 'partitioned table'
	                      WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index'
	                      WHEN 'S' THEN 'sequence' WHEN 's' THEN 'special'
	                      WHEN 'f' THEN 'foreign table' END
	                    as type,
	                    pg_catalog.pg_get_userbyid(c.relowner) as owner
	                    
	            FROM    pg_catalog.pg_class c
	                    LEFT JOIN pg_catalog.pg_namespace n
	                      ON n.oid = c.relnamespace
	            WHERE   c.relkind = ANY('{v,s,""}')
	                
	            AND n.nspname <> 'pg_catalog'
	            AND n.nspname <> 'information_schema'
	            AND n.nspname !~ '^pg_toast'
	            AND pg_catalog.pg_table_is_visible(c.oid) 
	                
	            ORDER BY 1, 2
;;
SELECT c.oid, n.nspname, c.relname
	             FROM pg_catalog.pg_class c
	             LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	             WHERE pg_catalog.pg_table_is_visible(c.oid) AND c.relname OPERATOR(pg_catalog.~) '^(experiments)$'
	             ORDER BY 2,3
;;
SELECT c.relchecks, c.relkind, c.relhasindex,
	                    c.relhasrules, c.relhastriggers, false as relhasoids,
	                    '',
	                    c.reltablespace,
	                    CASE WHEN c.reloftype = 0 THEN ''
	                        ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text
	                    END,
	                    c.relpersistence,
	                    c.relispartition
	                 FROM pg_catalog.pg_class c
	                 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
	                 WHERE c.oid = '16384'
;;
SELECT a.attname,
	    pg_catalog.format_type(a.atttypid, a.atttypmod)
	    , (SELECT substring(pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) for 128)
	                     FROM pg_catalog.pg_attrdef d
	                     WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef)
	                    , a.attnotnull,
	(SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
	                    WHERE c.oid = a.attcollation
	                    AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
	  a.attidentity,
	  a.attgenerated,
	 NULL AS indexdef, NULL AS attfdwoptions FROM pg_catalog.pg_attribute a WHERE a.attrelid = '16384' AND
	    a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum;
;;
SELECT c.oid::pg_catalog.regclass
	FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
	WHERE c.oid = i.inhparent
	  AND i.inhrelid = '16384'
	ORDER BY inhseqno
;;
SELECT c.oid::pg_catalog.regclass
	                        FROM pg_catalog.pg_class c,
	                            pg_catalog.pg_inherits i
	                        WHERE c.oid = i.inhrelid
	                            AND i.inhparent = '16384'
	                        ORDER BY c.oid::pg_catalog.regclass::pg_catalog.text;
;;
SELECT c.relchecks, c.relkind, c.relhasindex,
	                    c.relhasrules, c.relhastriggers, false as relhasoids,
	                    pg_catalog.array_to_string(c.reloptions || array(select
	        'toast.' || x from pg_catalog.unnest(tc.reloptions) x), ', '),
	                    c.reltablespace,
	                    CASE WHEN c.reloftype = 0 THEN ''
	                        ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text
	                    END,
	                    c.relpersistence,
	                    c.relispartition
	                 FROM pg_catalog.pg_class c
	                 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
	                 WHERE c.oid = '16384'
;;
SELECT a.attname,
	    pg_catalog.format_type(a.atttypid, a.atttypmod)
	    , (SELECT substring(pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) for 128)
	                     FROM pg_catalog.pg_attrdef d
	                     WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef)
	                    , a.attnotnull,
	(SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
	                    WHERE c.oid = a.attcollation
	                    AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
	  a.attidentity,
	  a.attgenerated,
	 NULL AS indexdef, NULL AS attfdwoptions, a.attstorage,
	  CASE WHEN a.attstattarget=-1 THEN NULL ELSE a.attstattarget END AS attstattarget,
	  pg_catalog.col_description(a.attrelid, a.attnum) FROM pg_catalog.pg_attribute a WHERE a.attrelid = '16384' AND
	    a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum;
;;
SELECT n.nspname AS name, pg_catalog.pg_get_userbyid(n.nspowner) AS owner
	                
	              FROM pg_catalog.pg_namespace n WHERE n.nspname
	                !~ '^pg_' AND n.nspname <> 'information_schema'
	              ORDER BY 1
;;
SELECT  n.nspname as schema,
	                    p.proname as name,
	                    pg_catalog.pg_get_function_result(p.oid)
	                      as "Result data type",
	                    pg_catalog.pg_get_function_arguments(p.oid)
	                      as "Argument data types",
	                     CASE
	                        WHEN p.prokind = 'a' THEN 'agg'
	                        WHEN p.prokind = 'w' THEN 'window'
	                        WHEN p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype
	                            THEN 'trigger'
	                        ELSE 'normal'
	                    END as type 
	            FROM    pg_catalog.pg_proc p
	                    LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
	                            
	            WHERE   pg_catalog.pg_function_is_visible(p.oid)  AND n.nspname <> 'pg_catalog'
	                   AND n.nspname <> 'information_schema'  ORDER BY 1, 2, 4
;;
SELECT n.nspname as schema,
	                    pg_catalog.format_type(t.oid, NULL) AS name,   pg_catalog.obj_description(t.oid, 'pg_type')
	                        as description   FROM    pg_catalog.pg_type t
	                            LEFT JOIN pg_catalog.pg_namespace n
	                              ON n.oid = t.typnamespace
	                    WHERE   (t.typrelid = 0 OR
	                              ( SELECT c.relkind = 'c'
	                                FROM pg_catalog.pg_class c
	                                WHERE c.oid = t.typrelid))
	                            AND NOT EXISTS(
	                                SELECT 1
	                                FROM pg_catalog.pg_type el
	                                WHERE el.oid = t.typelem
	                                      AND el.typarray = t.oid)  AND pg_catalog.pg_type_is_visible(t.oid)  AND n.nspname <> 'pg_catalog'
	                   AND n.nspname <> 'information_schema'  ORDER BY 1, 2
;;
SELECT d.datname as name,
	        pg_catalog.pg_get_userbyid(d.datdba) as owner,
	        pg_catalog.pg_encoding_to_char(d.encoding) as encoding,
	        d.datcollate as collate,
	        d.datctype as ctype,
	        pg_catalog.array_to_string(d.datacl, E'
	') AS access_privileges
	        
	        FROM pg_catalog.pg_database d
	        
	        
	        ORDER BY 1
;;
SELECT r.rolname,
	                r.rolsuper,
	                r.rolinherit,
	                r.rolcreaterole,
	                r.rolcreatedb,
	                r.rolcanlogin,
	                r.rolconnlimit,
	                r.rolvaliduntil,
	                ARRAY(SELECT b.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid) WHERE m.member = r.oid) as memberof,
	                
	                r.rolreplication
	            FROM pg_catalog.pg_roles r
	                
	            ORDER BY 1
