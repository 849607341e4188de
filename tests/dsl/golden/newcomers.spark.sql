-- title: segment newcomers (spark), as_of 2026-03-31
WITH _v_base AS (
  SELECT
    c.customer_id AS customer_id,
    COALESCE(e._a1, 0) AS _a1,
    c.city AS city,
    COALESCE(e._a2, 0) AS _a2
  FROM customers AS c
  LEFT JOIN (
    SELECT
      ev.customer_id,
      COUNT(
        CASE
          WHEN (
            (
              ev.event_type = 'purchase' AND ev.ts >= CAST('2026-01-01 00:00:00' AS TIMESTAMP)
            )
            AND ev.ts < CAST('2026-02-01 00:00:00' AS TIMESTAMP)
          )
          AND (
            GET_JSON_OBJECT(ev.properties, '$.channel') = 'app'
          )
          THEN 1
        END
      ) AS _a1,
      SUM(
        CASE
          WHEN ev.event_type = 'purchase' AND ev.ts >= CAST('2025-03-31 00:00:00' AS TIMESTAMP)
          THEN ev.amount
        END
      ) AS _a2
    FROM events AS ev
    WHERE
      ev.ts < CAST('2026-03-31 00:00:00' AS TIMESTAMP)
      AND ev.event_type IN ('purchase')
      AND ev.ts >= CAST('2025-03-31 00:00:00' AS TIMESTAMP)
    GROUP BY
      ev.customer_id
  ) AS e
    ON e.customer_id = c.customer_id
), _v_rank AS (
  SELECT
    *,
    CASE WHEN NOT _a2 IS NULL THEN RANK() OVER (ORDER BY _a2 ASC NULLS LAST) END AS _rk1,
    COUNT(_a2) OVER () AS _n1
  FROM _v_base
), _v AS (
  SELECT
    *
  FROM _v_rank
)
SELECT
  customer_id,
  FALSE AS control
FROM _v
WHERE
  _a1 >= 1
  AND STARTSWITH(city, 'İz')
  AND RIGHT(city, 2) = 'ir'
  AND (
    _rk1 - 1
  ) * 200 < 15 * _n1
