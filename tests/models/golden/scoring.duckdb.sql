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
    ELSE LIST_EXTRACT(
      LIST_TRANSFORM(
        [
          [
            (
              LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
            ) / 1.71781e0,
            (
              LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
            ) / 1.02379e0,
            (
              LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
            ) / 1.79466e0
          ]
        ],
        LAMBDA _cdp_z : LIST_EXTRACT(
          LIST_TRANSFORM(
            [
              [
                4.8239130131e0 + (
                  LIST_EXTRACT(_cdp_z, 1) * 2.01262e0 + LIST_EXTRACT(_cdp_z, 2) * (
                    -2.65578e0
                  ) + LIST_EXTRACT(_cdp_z, 3) * (
                    -2.86214e0
                  )
                ),
                3.487554381741e0 + (
                  LIST_EXTRACT(_cdp_z, 1) * (
                    -2.39738e0
                  ) + LIST_EXTRACT(_cdp_z, 2) * 2.44544e0 + LIST_EXTRACT(_cdp_z, 3) * 1.490842e0
                ),
                3.6133039107203996e-1 + (
                  LIST_EXTRACT(_cdp_z, 1) * 9.36698e-1 + LIST_EXTRACT(_cdp_z, 2) * (
                    -7.52528e-1
                  ) + LIST_EXTRACT(_cdp_z, 3) * (
                    -4.02496e-2
                  )
                )
              ]
            ],
            LAMBDA _cdp_v : CASE
              WHEN LEAST(LIST_EXTRACT(_cdp_v, 1), LIST_EXTRACT(_cdp_v, 2)) <= LIST_EXTRACT(_cdp_v, 3)
              THEN CASE
                WHEN LIST_EXTRACT(_cdp_v, 1) <= LIST_EXTRACT(_cdp_v, 2)
                THEN 'Champions'
                ELSE 'Promising'
              END
              ELSE 'Loyal'
            END
          ),
          1
        )
      ),
      1
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
    ELSE LIST_EXTRACT(
      LIST_TRANSFORM(
        [
          [
            (
              LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
            ) / 1.71781e0,
            (
              LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
            ) / 1.02379e0,
            (
              LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
            ) / 1.79466e0
          ]
        ],
        LAMBDA _cdp_z : LIST_EXTRACT(
          LIST_TRANSFORM(
            [
              [
                -1.4271978272334285e0 - 5e-1 * (
                  (
                    LIST_EXTRACT(_cdp_z, 1) * 1.63552e0 + 9.3514290592e-1
                  ) * (
                    LIST_EXTRACT(_cdp_z, 1) * 1.63552e0 + 9.3514290592e-1
                  ) + (
                    LIST_EXTRACT(_cdp_z, 1) * 4.99501e-1 + LIST_EXTRACT(_cdp_z, 2) * 1.66944e0 + -6.700290057289999e-1
                  ) * (
                    LIST_EXTRACT(_cdp_z, 1) * 4.99501e-1 + LIST_EXTRACT(_cdp_z, 2) * 1.66944e0 + -6.700290057289999e-1
                  ) + (
                    LIST_EXTRACT(_cdp_z, 1) * 4.87702e-1 + LIST_EXTRACT(_cdp_z, 2) * (
                      -1.72863e0
                    ) + LIST_EXTRACT(_cdp_z, 3) * 2.00618e0 + 5.93487942172e-1
                  ) * (
                    LIST_EXTRACT(_cdp_z, 1) * 4.87702e-1 + LIST_EXTRACT(_cdp_z, 2) * (
                      -1.72863e0
                    ) + LIST_EXTRACT(_cdp_z, 3) * 2.00618e0 + 5.93487942172e-1
                  )
                ),
                5.086361595577346e0 - 5e-1 * (
                  (
                    LIST_EXTRACT(_cdp_z, 1) * 4.64276e0 + -5.908608514e0
                  ) * (
                    LIST_EXTRACT(_cdp_z, 1) * 4.64276e0 + -5.908608514e0
                  ) + (
                    LIST_EXTRACT(_cdp_z, 2) * 1.0000e3 + 1.2741100000000001e3
                  ) * (
                    LIST_EXTRACT(_cdp_z, 2) * 1.0000e3 + 1.2741100000000001e3
                  ) + (
                    LIST_EXTRACT(_cdp_z, 1) * 7.06918e0 + LIST_EXTRACT(_cdp_z, 3) * 1.77056e0 + -7.670869191960001e0
                  ) * (
                    LIST_EXTRACT(_cdp_z, 1) * 7.06918e0 + LIST_EXTRACT(_cdp_z, 3) * 1.77056e0 + -7.670869191960001e0
                  )
                )
              ]
            ],
            LAMBDA _cdp_v : CASE
              WHEN LIST_EXTRACT(_cdp_v, 1) >= LIST_EXTRACT(_cdp_v, 2)
              THEN 'Champions'
              ELSE 'Loyal'
            END
          ),
          1
        )
      ),
      1
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
    ELSE LIST_EXTRACT(
      LIST_TRANSFORM(
        [
          [
            (
              LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
            ) / 1.71781e0,
            (
              LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
            ) / 1.02379e0,
            (
              LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
            ) / 1.79466e0
          ]
        ],
        LAMBDA _cdp_z : LIST_EXTRACT(
          LIST_TRANSFORM(
            [
              [
                -1.4271978272334285e0 - 5e-1 * (
                  (
                    LIST_EXTRACT(_cdp_z, 1) * 1.63552e0 + 9.3514290592e-1
                  ) * (
                    LIST_EXTRACT(_cdp_z, 1) * 1.63552e0 + 9.3514290592e-1
                  ) + (
                    LIST_EXTRACT(_cdp_z, 1) * 4.99501e-1 + LIST_EXTRACT(_cdp_z, 2) * 1.66944e0 + -6.700290057289999e-1
                  ) * (
                    LIST_EXTRACT(_cdp_z, 1) * 4.99501e-1 + LIST_EXTRACT(_cdp_z, 2) * 1.66944e0 + -6.700290057289999e-1
                  ) + (
                    LIST_EXTRACT(_cdp_z, 1) * 4.87702e-1 + LIST_EXTRACT(_cdp_z, 2) * (
                      -1.72863e0
                    ) + LIST_EXTRACT(_cdp_z, 3) * 2.00618e0 + 5.93487942172e-1
                  ) * (
                    LIST_EXTRACT(_cdp_z, 1) * 4.87702e-1 + LIST_EXTRACT(_cdp_z, 2) * (
                      -1.72863e0
                    ) + LIST_EXTRACT(_cdp_z, 3) * 2.00618e0 + 5.93487942172e-1
                  )
                ),
                5.086361595577346e0 - 5e-1 * (
                  (
                    LIST_EXTRACT(_cdp_z, 1) * 4.64276e0 + -5.908608514e0
                  ) * (
                    LIST_EXTRACT(_cdp_z, 1) * 4.64276e0 + -5.908608514e0
                  ) + (
                    LIST_EXTRACT(_cdp_z, 2) * 1.0000e3 + 1.2741100000000001e3
                  ) * (
                    LIST_EXTRACT(_cdp_z, 2) * 1.0000e3 + 1.2741100000000001e3
                  ) + (
                    LIST_EXTRACT(_cdp_z, 1) * 7.06918e0 + LIST_EXTRACT(_cdp_z, 3) * 1.77056e0 + -7.670869191960001e0
                  ) * (
                    LIST_EXTRACT(_cdp_z, 1) * 7.06918e0 + LIST_EXTRACT(_cdp_z, 3) * 1.77056e0 + -7.670869191960001e0
                  )
                )
              ]
            ],
            LAMBDA _cdp_v : 1 / (
              1 + EXP(
                LEAST(GREATEST(LIST_EXTRACT(_cdp_v, 2) - LIST_EXTRACT(_cdp_v, 1), -7.000e2), 7.000e2)
              )
            )
          ),
          1
        )
      ),
      1
    )
  END AS v
FROM feats;
