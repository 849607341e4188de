-- title: segment rfm_champions (duckdb), as_of 2026-03-31
WITH _v_base AS (
  SELECT
    c.customer_id AS customer_id,
    DATE_DIFF('day', CAST(e._a1 AS DATE), CAST('2026-03-31' AS DATE)) AS _d1,
    COALESCE(e._a2, 0) AS _a2,
    COALESCE(e._a3, 0) AS _a3
  FROM customers AS c
  LEFT JOIN (
    SELECT
      ev.customer_id,
      MAX(CASE WHEN ev.event_type = 'purchase' THEN ev.ts END) AS _a1,
      COUNT(
        CASE
          WHEN ev.event_type = 'purchase' AND ev.ts >= CAST('2025-03-31 00:00:00' AS TIMESTAMP)
          THEN 1
        END
      ) AS _a2,
      SUM(
        CASE
          WHEN ev.event_type = 'purchase' AND ev.ts >= CAST('2025-03-31 00:00:00' AS TIMESTAMP)
          THEN ev.amount
        END
      ) AS _a3
    FROM events AS ev
    WHERE
      ev.ts < CAST('2026-03-31 00:00:00' AS TIMESTAMP)
      AND ev.event_type IN ('purchase')
    GROUP BY
      ev.customer_id
  ) AS e
    ON e.customer_id = c.customer_id
), _v_rfm1 AS (
  SELECT
    *,
    SUM(CASE WHEN _a2 > 0 THEN 1 ELSE 0 END) OVER () AS _rfm_n,
    RANK() OVER (PARTITION BY CASE WHEN _a2 > 0 THEN 1 ELSE 0 END ORDER BY _d1 ASC) AS _rfm_kr,
    RANK() OVER (PARTITION BY CASE WHEN _a2 > 0 THEN 1 ELSE 0 END ORDER BY _a2 DESC) AS _rfm_kf,
    RANK() OVER (PARTITION BY CASE WHEN _a2 > 0 THEN 1 ELSE 0 END ORDER BY _a3 DESC) AS _rfm_km
  FROM _v_base
), _v_rfm2 AS (
  SELECT
    *,
    CASE
      WHEN _a2 > 0
      THEN CASE
        WHEN 5 * (
          _rfm_n + 1 - _rfm_kr
        ) <= 1 * _rfm_n
        THEN 1
        WHEN 5 * (
          _rfm_n + 1 - _rfm_kr
        ) <= 2 * _rfm_n
        THEN 2
        WHEN 5 * (
          _rfm_n + 1 - _rfm_kr
        ) <= 3 * _rfm_n
        THEN 3
        WHEN 5 * (
          _rfm_n + 1 - _rfm_kr
        ) <= 4 * _rfm_n
        THEN 4
        ELSE 5
      END
    END AS _rfm_r,
    CASE
      WHEN _a2 > 0
      THEN CASE
        WHEN 5 * (
          _rfm_n + 1 - _rfm_kf
        ) <= 1 * _rfm_n
        THEN 1
        WHEN 5 * (
          _rfm_n + 1 - _rfm_kf
        ) <= 2 * _rfm_n
        THEN 2
        WHEN 5 * (
          _rfm_n + 1 - _rfm_kf
        ) <= 3 * _rfm_n
        THEN 3
        WHEN 5 * (
          _rfm_n + 1 - _rfm_kf
        ) <= 4 * _rfm_n
        THEN 4
        ELSE 5
      END
    END AS _rfm_f,
    CASE
      WHEN _a2 > 0
      THEN CASE
        WHEN 5 * (
          _rfm_n + 1 - _rfm_km
        ) <= 1 * _rfm_n
        THEN 1
        WHEN 5 * (
          _rfm_n + 1 - _rfm_km
        ) <= 2 * _rfm_n
        THEN 2
        WHEN 5 * (
          _rfm_n + 1 - _rfm_km
        ) <= 3 * _rfm_n
        THEN 3
        WHEN 5 * (
          _rfm_n + 1 - _rfm_km
        ) <= 4 * _rfm_n
        THEN 4
        ELSE 5
      END
    END AS _rfm_m
  FROM _v_rfm1
), _v_rfm3 AS (
  SELECT
    *,
    CAST(_rfm_r AS TEXT) || CAST(_rfm_f AS TEXT) || CAST(_rfm_m AS TEXT) AS _rfm_score,
    CASE
      WHEN _rfm_r = 5 AND _rfm_f = 1
      THEN 'New Customers'
      WHEN (
        _rfm_r = 5 AND _rfm_f = 2
      )
      OR (
        _rfm_r = 5 AND _rfm_f = 3
      )
      OR (
        _rfm_r = 4 AND _rfm_f = 2
      )
      OR (
        _rfm_r = 4 AND _rfm_f = 3
      )
      THEN 'Potential Loyalists'
      WHEN (
        _rfm_r = 5 AND _rfm_f = 4
      ) OR (
        _rfm_r = 5 AND _rfm_f = 5
      )
      THEN 'Champions'
      WHEN _rfm_r = 4 AND _rfm_f = 1
      THEN 'Promising'
      WHEN (
        _rfm_r = 4 AND _rfm_f = 4
      )
      OR (
        _rfm_r = 4 AND _rfm_f = 5
      )
      OR (
        _rfm_r = 3 AND _rfm_f = 4
      )
      OR (
        _rfm_r = 3 AND _rfm_f = 5
      )
      THEN 'Loyal Customers'
      WHEN (
        _rfm_r = 3 AND _rfm_f = 1
      ) OR (
        _rfm_r = 3 AND _rfm_f = 2
      )
      THEN 'About To Sleep'
      WHEN _rfm_r = 3 AND _rfm_f = 3
      THEN 'Need Attention'
      WHEN (
        _rfm_r = 2 AND _rfm_f = 1
      )
      OR (
        _rfm_r = 2 AND _rfm_f = 2
      )
      OR (
        _rfm_r = 1 AND _rfm_f = 2
      )
      THEN 'Hibernating'
      WHEN (
        _rfm_r = 2 AND _rfm_f = 3
      )
      OR (
        _rfm_r = 2 AND _rfm_f = 4
      )
      OR (
        _rfm_r = 1 AND _rfm_f = 3
      )
      OR (
        _rfm_r = 1 AND _rfm_f = 4
      )
      THEN 'At Risk'
      WHEN (
        _rfm_r = 2 AND _rfm_f = 5
      ) OR (
        _rfm_r = 1 AND _rfm_f = 5
      )
      THEN 'Cannot Lose Them'
      WHEN _rfm_r = 1 AND _rfm_f = 1
      THEN 'Lost'
    END AS _rfm_segment
  FROM _v_rfm2
), _v AS (
  SELECT
    *
  FROM _v_rfm3
)
SELECT
  customer_id,
  FALSE AS control
FROM _v
WHERE
  _rfm_segment = 'Champions' OR _rfm_score = '555'
