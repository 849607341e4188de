-- title: segment lapsed (spark), as_of 2026-03-31
WITH _v_base AS (
  SELECT
    c.customer_id AS customer_id,
    NOT _w1.customer_id IS NULL AS _w1,
    DATEDIFF(CAST('2026-03-31' AS DATE), CAST(e._a1 AS DATE)) AS _d1,
    c.signup_date AS signup_date
  FROM customers AS c
  LEFT JOIN (
    SELECT
      ev.customer_id,
      MAX(CASE WHEN ev.event_type = 'purchase' THEN ev.ts END) AS _a1
    FROM events AS ev
    WHERE
      ev.ts < CAST('2026-03-31 00:00:00' AS TIMESTAMP)
      AND ev.event_type IN ('purchase')
    GROUP BY
      ev.customer_id
  ) AS e
    ON e.customer_id = c.customer_id
  LEFT JOIN (
    SELECT DISTINCT
      customer_id
    FROM (
      SELECT
        customer_id
      FROM segment_members
      WHERE
        build_id = (
          SELECT
            build_id
          FROM segment_builds
          WHERE
            segment = 'gold' AND as_of <= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
          ORDER BY
            as_of DESC,
            build_id DESC
          LIMIT 1
        )
        AND segment = 'gold'
      UNION ALL
      SELECT
        _m1.new_id AS customer_id
      FROM (
        SELECT
          customer_id
        FROM segment_members
        WHERE
          build_id = (
            SELECT
              build_id
            FROM segment_builds
            WHERE
              segment = 'gold' AND as_of <= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
            ORDER BY
              as_of DESC,
              build_id DESC
            LIMIT 1
          )
          AND segment = 'gold'
      ) AS _m0
      JOIN customer_merges AS _m1
        ON _m1.old_id = _m0.customer_id
      UNION ALL
      SELECT
        _m2.new_id AS customer_id
      FROM (
        SELECT
          customer_id
        FROM segment_members
        WHERE
          build_id = (
            SELECT
              build_id
            FROM segment_builds
            WHERE
              segment = 'gold' AND as_of <= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
            ORDER BY
              as_of DESC,
              build_id DESC
            LIMIT 1
          )
          AND segment = 'gold'
      ) AS _m0
      JOIN customer_merges AS _m1
        ON _m1.old_id = _m0.customer_id
      JOIN customer_merges AS _m2
        ON _m2.old_id = _m1.new_id
      UNION ALL
      SELECT
        _m3.new_id AS customer_id
      FROM (
        SELECT
          customer_id
        FROM segment_members
        WHERE
          build_id = (
            SELECT
              build_id
            FROM segment_builds
            WHERE
              segment = 'gold' AND as_of <= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
            ORDER BY
              as_of DESC,
              build_id DESC
            LIMIT 1
          )
          AND segment = 'gold'
      ) AS _m0
      JOIN customer_merges AS _m1
        ON _m1.old_id = _m0.customer_id
      JOIN customer_merges AS _m2
        ON _m2.old_id = _m1.new_id
      JOIN customer_merges AS _m3
        ON _m3.old_id = _m2.new_id
    ) AS _ids
  ) AS _w1
    ON _w1.customer_id = c.customer_id
), _v AS (
  SELECT
    *
  FROM _v_base
)
SELECT
  customer_id,
  FALSE AS control
FROM _v
WHERE
  _w1
  AND NOT _d1 < 30
  AND DATEDIFF(CAST('2026-03-31' AS DATE), CAST(signup_date AS DATE)) > 365
