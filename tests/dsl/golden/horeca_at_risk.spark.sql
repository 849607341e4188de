-- title: segment horeca_at_risk (spark), as_of 2026-03-31
WITH _v_base AS (
  SELECT
    c.customer_id AS customer_id,
    c.business_type AS business_type,
    DATEDIFF(CAST('2026-03-31' AS DATE), CAST(e._a1 AS DATE)) AS _d1,
    COALESCE(e._a2, 0) AS _a2,
    c.city AS city,
    NOT _cs1.customer_id IS NULL AS _cs1,
    COALESCE(e._a3, 0) AS _a3,
    COALESCE(e._a4, 0) AS _a4
  FROM customers AS c
  LEFT JOIN (
    SELECT
      ev.customer_id,
      MAX(CASE WHEN ev.event_type = 'purchase' THEN ev.ts END) AS _a1,
      COUNT(
        CASE
          WHEN (
            ev.event_type = 'purchase' AND ev.ts >= CAST('2025-09-30 00:00:00' AS TIMESTAMP)
          )
          AND (
            ev.category = 'beverages' AND ev.quantity >= 2
          )
          THEN 1
        END
      ) AS _a2,
      SUM(
        CASE
          WHEN ev.event_type = 'purchase' AND ev.ts >= CAST('2025-03-31 00:00:00' AS TIMESTAMP)
          THEN ev.amount
        END
      ) AS _a3,
      COUNT(
        CASE
          WHEN ev.event_type = 'purchase' AND ev.ts >= CAST('2025-12-31 00:00:00' AS TIMESTAMP)
          THEN 1
        END
      ) AS _a4
    FROM events AS ev
    WHERE
      ev.ts < CAST('2026-03-31 00:00:00' AS TIMESTAMP)
      AND ev.event_type IN ('purchase')
    GROUP BY
      ev.customer_id
  ) AS e
    ON e.customer_id = c.customer_id
  LEFT JOIN (
    SELECT
      customer_id
    FROM (
      SELECT
        customer_id,
        status,
        basis,
        expires_at,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY effective_at DESC, seq DESC) AS _rn
      FROM consent_events
      WHERE
        NOT customer_id IS NULL
        AND purpose = 'email_marketing'
        AND channel IN ('any', 'email')
        AND effective_at <= CAST('2026-03-30 21:00:00' AS TIMESTAMP)
    ) AS _ce
    WHERE
      _rn = 1
      AND status = 'granted'
      AND (
        basis IS NULL OR basis <> 'opt_out'
      )
      AND (
        expires_at IS NULL OR expires_at > CAST('2026-03-30 21:00:00' AS TIMESTAMP)
      )
      AND NOT customer_id IN (
        SELECT
          customer_id
        FROM objections
        WHERE
          scope = 'direct_marketing'
          AND effective_at <= CAST('2026-03-30 21:00:00' AS TIMESTAMP)
      )
  ) AS _cs1
    ON _cs1.customer_id = c.customer_id
), _v AS (
  SELECT
    *
  FROM _v_base
)
SELECT
  customer_id,
  CAST(CONV(SUBSTRING(SHA2('horeca_at_risk:' || customer_id, 256), 1, 8), 16, 10) AS BIGINT) % 10000 < 1250 AS control
FROM _v
WHERE
  business_type IN ('restaurant', 'cafe', 'hotel')
  AND _d1 BETWEEN 60 AND 180
  AND _a2 >= 3
  AND LOCATE('istanbul', LOWER(TRANSLATE(city, 'Iİı', 'iii'))) > 0
  AND _cs1
  AND _a3 / NULLIF(_a4, 0) > 50000 / NULLIF(100, 0)
