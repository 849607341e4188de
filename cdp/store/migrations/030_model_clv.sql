-- 030 (models area): per-customer CLV details.
-- model_scores.score of a clv model is the predicted value; this table keeps its parts.
CREATE TABLE model_clv (
    name                VARCHAR NOT NULL,
    version             INTEGER NOT NULL,
    customer_id         VARCHAR NOT NULL,
    expected_purchases  DOUBLE,             -- within the model's horizon
    expected_spend      DOUBLE,             -- per purchase (Gamma-Gamma)
    probability_alive   DOUBLE,
    value               DOUBLE              -- expected_purchases * expected_spend
);
