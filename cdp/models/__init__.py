"""Machine-learned segments: clustering, outliers, churn and CLV, scored inside rules.

Training uses scikit-learn and scipy; a trained model is plain JSON in the ``models``
table (never pickle), scored in SQL by :func:`cdp.models.sql.score_expression` or read
from ``model_scores``. The workspace API is :class:`cdp.models.service.ModelService`
(``ws.models``).
"""

from __future__ import annotations

__all__ = ["ModelService", "ModelSpec", "StoredModel", "latest", "save", "score_expression"]


def __getattr__(name: str) -> object:
    # imported lazily: `cdp --help` must not pay for scikit-learn
    if name == "ModelService":
        from cdp.models.service import ModelService

        return ModelService
    if name == "ModelSpec":
        from cdp.models.spec import ModelSpec

        return ModelSpec
    if name in ("StoredModel", "latest", "save"):
        from cdp.models import registry

        return getattr(registry, name)
    if name == "score_expression":
        from cdp.models.sql import score_expression

        return score_expression
    raise AttributeError(name)
