-- title: segment gold (spark), as_of 2026-03-31
WITH _v_base AS (
  SELECT
    c.customer_id AS customer_id,
    COALESCE(e._a1, 0) AS _a1
  FROM customers AS c
  LEFT JOIN (
    SELECT
      ev.customer_id,
      SUM(
        CASE
          WHEN ev.event_type = 'purchase' AND ev.ts >= CAST('2025-03-31 00:00:00' AS TIMESTAMP)
          THEN ev.amount
        END
      ) AS _a1
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
    CASE WHEN NOT _a1 IS NULL THEN RANK() OVER (ORDER BY _a1 DESC) END AS _rk1,
    COUNT(_a1) OVER () AS _n1
  FROM _v_base
), _v AS (
  SELECT
    *
  FROM _v_rank
)
SELECT
  customer_id,
  CAST(CONV(SUBSTRING(SHA2('gold:' || customer_id, 256), 1, 8), 16, 10) AS BIGINT) % 10000 < 1000 AS control
FROM _v
WHERE
  (
    _rk1 - 1
  ) * 100 < 20 * _n1
  AND NOT COALESCE((
    (
      _rk1 - 1
    ) * 100 < 5 * _n1
  ), FALSE)
