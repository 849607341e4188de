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
    ELSE CASE
      WHEN LEAST(
        4.8239130131e0 + (
          (
            (
              LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
            ) / 1.71781e0
          ) * 2.01262e0 + (
            (
              LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
            ) / 1.02379e0
          ) * (
            -2.65578e0
          ) + (
            (
              LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
            ) / 1.79466e0
          ) * (
            -2.86214e0
          )
        ),
        3.487554381741e0 + (
          (
            (
              LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
            ) / 1.71781e0
          ) * (
            -2.39738e0
          ) + (
            (
              LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
            ) / 1.02379e0
          ) * 2.44544e0 + (
            (
              LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
            ) / 1.79466e0
          ) * 1.490842e0
        )
      ) <= (
        3.6133039107203996e-1 + (
          (
            (
              LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
            ) / 1.71781e0
          ) * 9.36698e-1 + (
            (
              LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
            ) / 1.02379e0
          ) * (
            -7.52528e-1
          ) + (
            (
              LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
            ) / 1.79466e0
          ) * (
            -4.02496e-2
          )
        )
      )
      THEN CASE
        WHEN (
          4.8239130131e0 + (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 2.01262e0 + (
              (
                LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
              ) / 1.02379e0
            ) * (
              -2.65578e0
            ) + (
              (
                LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
              ) / 1.79466e0
            ) * (
              -2.86214e0
            )
          )
        ) <= (
          3.487554381741e0 + (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * (
              -2.39738e0
            ) + (
              (
                LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
              ) / 1.02379e0
            ) * 2.44544e0 + (
              (
                LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
              ) / 1.79466e0
            ) * 1.490842e0
          )
        )
        THEN 'Champions'
        ELSE 'Promising'
      END
      ELSE 'Loyal'
    END
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
    ELSE CASE
      WHEN (
        -1.4271978272334285e0 - 5e-1 * (
          (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 1.63552e0 + 9.3514290592e-1
          ) * (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 1.63552e0 + 9.3514290592e-1
          ) + (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 4.99501e-1 + (
              (
                LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
              ) / 1.02379e0
            ) * 1.66944e0 + -6.700290057289999e-1
          ) * (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 4.99501e-1 + (
              (
                LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
              ) / 1.02379e0
            ) * 1.66944e0 + -6.700290057289999e-1
          ) + (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 4.87702e-1 + (
              (
                LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
              ) / 1.02379e0
            ) * (
              -1.72863e0
            ) + (
              (
                LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
              ) / 1.79466e0
            ) * 2.00618e0 + 5.93487942172e-1
          ) * (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 4.87702e-1 + (
              (
                LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
              ) / 1.02379e0
            ) * (
              -1.72863e0
            ) + (
              (
                LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
              ) / 1.79466e0
            ) * 2.00618e0 + 5.93487942172e-1
          )
        )
      ) >= (
        5.086361595577346e0 - 5e-1 * (
          (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 4.64276e0 + -5.908608514e0
          ) * (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 4.64276e0 + -5.908608514e0
          ) + (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
              ) / 1.02379e0
            ) * 1.0000e3 + 1.2741100000000001e3
          ) * (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
              ) / 1.02379e0
            ) * 1.0000e3 + 1.2741100000000001e3
          ) + (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 7.06918e0 + (
              (
                LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
              ) / 1.79466e0
            ) * 1.77056e0 + -7.670869191960001e0
          ) * (
            (
              (
                LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
              ) / 1.71781e0
            ) * 7.06918e0 + (
              (
                LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
              ) / 1.79466e0
            ) * 1.77056e0 + -7.670869191960001e0
          )
        )
      )
      THEN 'Champions'
      ELSE 'Loyal'
    END
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
    ELSE 1 / (
      1 + EXP(
        LEAST(
          GREATEST(
            (
              5.086361595577346e0 - 5e-1 * (
                (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
                    ) / 1.71781e0
                  ) * 4.64276e0 + -5.908608514e0
                ) * (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
                    ) / 1.71781e0
                  ) * 4.64276e0 + -5.908608514e0
                ) + (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
                    ) / 1.02379e0
                  ) * 1.0000e3 + 1.2741100000000001e3
                ) * (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
                    ) / 1.02379e0
                  ) * 1.0000e3 + 1.2741100000000001e3
                ) + (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
                    ) / 1.71781e0
                  ) * 7.06918e0 + (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
                    ) / 1.79466e0
                  ) * 1.77056e0 + -7.670869191960001e0
                ) * (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
                    ) / 1.71781e0
                  ) * 7.06918e0 + (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
                    ) / 1.79466e0
                  ) * 1.77056e0 + -7.670869191960001e0
                )
              )
            ) - (
              -1.4271978272334285e0 - 5e-1 * (
                (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
                    ) / 1.71781e0
                  ) * 1.63552e0 + 9.3514290592e-1
                ) * (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
                    ) / 1.71781e0
                  ) * 1.63552e0 + 9.3514290592e-1
                ) + (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
                    ) / 1.71781e0
                  ) * 4.99501e-1 + (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
                    ) / 1.02379e0
                  ) * 1.66944e0 + -6.700290057289999e-1
                ) * (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
                    ) / 1.71781e0
                  ) * 4.99501e-1 + (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
                    ) / 1.02379e0
                  ) * 1.66944e0 + -6.700290057289999e-1
                ) + (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
                    ) / 1.71781e0
                  ) * 4.87702e-1 + (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
                    ) / 1.02379e0
                  ) * (
                    -1.72863e0
                  ) + (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
                    ) / 1.79466e0
                  ) * 2.00618e0 + 5.93487942172e-1
                ) * (
                  (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(recency AS DOUBLE), 2.00e1), 0e0)) - 3.38302e0
                    ) / 1.71781e0
                  ) * 4.87702e-1 + (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(orders_90d AS DOUBLE), 4.0e0), 0e0)) - 1.30442e0
                    ) / 1.02379e0
                  ) * (
                    -1.72863e0
                  ) + (
                    (
                      LN(1 + GREATEST(COALESCE(CAST(spend_12m AS DOUBLE), 3.86915e4), 0e0)) - 1.03952e1
                    ) / 1.79466e0
                  ) * 2.00618e0 + 5.93487942172e-1
                )
              )
            ),
            -7.000e2
          ),
          7.000e2
        )
      )
    )
  END AS v
FROM feats;
