# title: cluster(kmeans)
SELECT
  customer_id,
  CASE
    WHEN customer_id IN (
      SELECT
        customer_id
      FROM objections
      WHERE
        scope = 'profiling'
    )
    THEN NULL
    ELSE (
      SELECT
        CASE
          WHEN LEAST(_cdp_v._cdp_v0, _cdp_v._cdp_v1) <= _cdp_v._cdp_v2
          THEN CASE WHEN _cdp_v._cdp_v0 <= _cdp_v._cdp_v1 THEN 'Champions' ELSE 'Promising' END
          ELSE 'Loyal'
        END
      FROM (
        SELECT
          4.8239130131e0 + (
            _cdp_z._cdp_z0 * 2.01262e0 + _cdp_z._cdp_z1 * (
              -2.65578e0
            ) + _cdp_z._cdp_z2 * (
              -2.86214e0
            )
          ) AS _cdp_v0,
          3.487554381741e0 + (
            _cdp_z._cdp_z0 * (
              -2.39738e0
            ) + _cdp_z._cdp_z1 * 2.44544e0 + _cdp_z._cdp_z2 * 1.490842e0
          ) AS _cdp_v1,
          3.6133039107203996e-1 + (
            _cdp_z._cdp_z0 * 9.36698e-1 + _cdp_z._cdp_z1 * (
              -7.52528e-1
            ) + _cdp_z._cdp_z2 * (
              -4.02496e-2
            )
          ) AS _cdp_v2
        FROM (
          SELECT
            CAST((
              LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE PRECISION), 2.00e1), 0e0)) - 3.38302e0
            ) AS DOUBLE PRECISION) / 1.71781e0 AS _cdp_z0,
            CAST((
              LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE PRECISION), 4.0e0), 0e0)) - 1.30442e0
            ) AS DOUBLE PRECISION) / 1.02379e0 AS _cdp_z1,
            CAST((
              LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE PRECISION), 3.86915e4), 0e0)) - 1.03952e1
            ) AS DOUBLE PRECISION) / 1.79466e0 AS _cdp_z2
        ) AS _cdp_z
      ) AS _cdp_v
    )
  END AS v
FROM feats;

# title: cluster(gmm)
SELECT
  customer_id,
  CASE
    WHEN customer_id IN (
      SELECT
        customer_id
      FROM objections
      WHERE
        scope = 'profiling'
    )
    THEN NULL
    ELSE (
      SELECT
        CASE WHEN _cdp_v._cdp_v0 >= _cdp_v._cdp_v1 THEN 'Champions' ELSE 'Loyal' END
      FROM (
        SELECT
          -1.4271978272334285e0 - 5e-1 * (
            (
              _cdp_z._cdp_z0 * 1.63552e0 + 9.3514290592e-1
            ) * (
              _cdp_z._cdp_z0 * 1.63552e0 + 9.3514290592e-1
            ) + (
              _cdp_z._cdp_z0 * 4.99501e-1 + _cdp_z._cdp_z1 * 1.66944e0 + -6.700290057289999e-1
            ) * (
              _cdp_z._cdp_z0 * 4.99501e-1 + _cdp_z._cdp_z1 * 1.66944e0 + -6.700290057289999e-1
            ) + (
              _cdp_z._cdp_z0 * 4.87702e-1 + _cdp_z._cdp_z1 * (
                -1.72863e0
              ) + _cdp_z._cdp_z2 * 2.00618e0 + 5.93487942172e-1
            ) * (
              _cdp_z._cdp_z0 * 4.87702e-1 + _cdp_z._cdp_z1 * (
                -1.72863e0
              ) + _cdp_z._cdp_z2 * 2.00618e0 + 5.93487942172e-1
            )
          ) AS _cdp_v0,
          5.086361595577346e0 - 5e-1 * (
            (
              _cdp_z._cdp_z0 * 4.64276e0 + -5.908608514e0
            ) * (
              _cdp_z._cdp_z0 * 4.64276e0 + -5.908608514e0
            ) + (
              _cdp_z._cdp_z1 * 1.0000e3 + 1.2741100000000001e3
            ) * (
              _cdp_z._cdp_z1 * 1.0000e3 + 1.2741100000000001e3
            ) + (
              _cdp_z._cdp_z0 * 7.06918e0 + _cdp_z._cdp_z2 * 1.77056e0 + -7.670869191960001e0
            ) * (
              _cdp_z._cdp_z0 * 7.06918e0 + _cdp_z._cdp_z2 * 1.77056e0 + -7.670869191960001e0
            )
          ) AS _cdp_v1
        FROM (
          SELECT
            CAST((
              LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE PRECISION), 2.00e1), 0e0)) - 3.38302e0
            ) AS DOUBLE PRECISION) / 1.71781e0 AS _cdp_z0,
            CAST((
              LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE PRECISION), 4.0e0), 0e0)) - 1.30442e0
            ) AS DOUBLE PRECISION) / 1.02379e0 AS _cdp_z1,
            CAST((
              LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE PRECISION), 3.86915e4), 0e0)) - 1.03952e1
            ) AS DOUBLE PRECISION) / 1.79466e0 AS _cdp_z2
        ) AS _cdp_z
      ) AS _cdp_v
    )
  END AS v
FROM feats;

# title: probability(gmm, 'Champions')
SELECT
  customer_id,
  CASE
    WHEN customer_id IN (
      SELECT
        customer_id
      FROM objections
      WHERE
        scope = 'profiling'
    )
    THEN NULL
    ELSE (
      SELECT
        CAST(1 AS DOUBLE PRECISION) / (
          1 + EXP(LEAST(GREATEST(_cdp_v._cdp_v1 - _cdp_v._cdp_v0, -7.000e2), 7.000e2))
        )
      FROM (
        SELECT
          -1.4271978272334285e0 - 5e-1 * (
            (
              _cdp_z._cdp_z0 * 1.63552e0 + 9.3514290592e-1
            ) * (
              _cdp_z._cdp_z0 * 1.63552e0 + 9.3514290592e-1
            ) + (
              _cdp_z._cdp_z0 * 4.99501e-1 + _cdp_z._cdp_z1 * 1.66944e0 + -6.700290057289999e-1
            ) * (
              _cdp_z._cdp_z0 * 4.99501e-1 + _cdp_z._cdp_z1 * 1.66944e0 + -6.700290057289999e-1
            ) + (
              _cdp_z._cdp_z0 * 4.87702e-1 + _cdp_z._cdp_z1 * (
                -1.72863e0
              ) + _cdp_z._cdp_z2 * 2.00618e0 + 5.93487942172e-1
            ) * (
              _cdp_z._cdp_z0 * 4.87702e-1 + _cdp_z._cdp_z1 * (
                -1.72863e0
              ) + _cdp_z._cdp_z2 * 2.00618e0 + 5.93487942172e-1
            )
          ) AS _cdp_v0,
          5.086361595577346e0 - 5e-1 * (
            (
              _cdp_z._cdp_z0 * 4.64276e0 + -5.908608514e0
            ) * (
              _cdp_z._cdp_z0 * 4.64276e0 + -5.908608514e0
            ) + (
              _cdp_z._cdp_z1 * 1.0000e3 + 1.2741100000000001e3
            ) * (
              _cdp_z._cdp_z1 * 1.0000e3 + 1.2741100000000001e3
            ) + (
              _cdp_z._cdp_z0 * 7.06918e0 + _cdp_z._cdp_z2 * 1.77056e0 + -7.670869191960001e0
            ) * (
              _cdp_z._cdp_z0 * 7.06918e0 + _cdp_z._cdp_z2 * 1.77056e0 + -7.670869191960001e0
            )
          ) AS _cdp_v1
        FROM (
          SELECT
            CAST((
              LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE PRECISION), 2.00e1), 0e0)) - 3.38302e0
            ) AS DOUBLE PRECISION) / 1.71781e0 AS _cdp_z0,
            CAST((
              LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE PRECISION), 4.0e0), 0e0)) - 1.30442e0
            ) AS DOUBLE PRECISION) / 1.02379e0 AS _cdp_z1,
            CAST((
              LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE PRECISION), 3.86915e4), 0e0)) - 1.03952e1
            ) AS DOUBLE PRECISION) / 1.79466e0 AS _cdp_z2
        ) AS _cdp_z
      ) AS _cdp_v
    )
  END AS v
FROM feats;
