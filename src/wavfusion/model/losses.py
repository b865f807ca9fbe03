"""Losses: the shared encoder (Eq 12), the cosine triplet margin loss (Eq 13), Eq 14-15.

Eq 13, over every triplet (i, j, k) of items in the batch (an item = one modality of one
sample) with m[i] != m[j], m[i] == m[k], c[i] == c[j], c[i] != c[k]:
    L_mar = mean over triplets of max(0, alpha - cos(X_i, X_j) + cos(X_i, X_k))
the positive j: same emotion, other modality; the negative k: same modality, other emotion.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class SharedEncoder(nn.Module):
    """Eq 12: X_com^m = SD(X^m). Each modality's pooled features are first projected to a
    common width (their widths differ) and passed through a GELU, then one shared linear
    layer SD maps every modality. The nonlinearity is what makes SD shared in effect: two
    linear maps in a row compose into one per-modality affine map, which would leave the
    margin loss (Eq 13) running on modality-specific heads."""

    def __init__(self, widths: dict[str, int], shared_dim: int) -> None:
        super().__init__()
        self.projections = nn.ModuleDict(
            {modality: nn.Linear(width, shared_dim) for modality, width in widths.items()}
        )
        self.activation = nn.GELU()
        self.shared = nn.Linear(shared_dim, shared_dim)  # SD

    def forward(self, pooled: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """pooled[m]: (batch, width_m) -> (batch, shared_dim) for each modality m."""
        return {
            m: self.shared(self.activation(self.projections[m](x))) for m, x in pooled.items()
        }


def margin_loss(
    embeddings: torch.Tensor,
    modalities: torch.Tensor,
    labels: torch.Tensor,
    margin: float,
) -> torch.Tensor:
    """Eq 13, vectorised over all (i, j, k) at once.

    embeddings: (items, width); modalities, labels: (items,) integer ids. Returns a scalar;
    0 (with a gradient path, never NaN) when the batch holds no valid triplet.
    """
    normalized = F.normalize(embeddings, dim=-1)
    cosine = normalized @ normalized.T  # (items, items)
    same_modality = modalities[:, None] == modalities[None, :]
    same_label = labels[:, None] == labels[None, :]
    positive = ~same_modality & same_label  # (i, j)
    negative = same_modality & ~same_label  # (i, k)
    valid = positive[:, :, None] & negative[:, None, :]  # (i, j, k)
    hinge = torch.relu(margin - cosine[:, :, None] + cosine[:, None, :])
    count = valid.sum()
    if count == 0:
        return embeddings.sum() * 0.0
    return (hinge * valid).sum() / count


def modality_margin_loss(
    shared: dict[str, torch.Tensor],
    present: dict[str, torch.Tensor],
    labels: torch.Tensor,
    margin: float,
) -> torch.Tensor:
    """Eq 13 over the shared-space embeddings of every modality a sample actually has.

    shared[m]: (batch, width); present[m]: (batch,) bool. Missing modalities make no item.
    """
    items, item_modalities, item_labels = [], [], []
    for index, modality in enumerate(shared):
        keep = present[modality]
        items.append(shared[modality][keep])
        item_modalities.append(torch.full_like(labels[keep], index))
        item_labels.append(labels[keep])
    return margin_loss(
        torch.cat(items), torch.cat(item_modalities), torch.cat(item_labels), margin
    )


def total_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    margin_term: torch.Tensor,
    margin_weight: float,
    class_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq 14-15: L = CE + lambda * L_mar (CE optionally class-weighted). Returns (L, CE)."""
    cross_entropy = F.cross_entropy(logits, labels, weight=class_weights)  # Eq 14
    return cross_entropy + margin_weight * margin_term, cross_entropy  # Eq 15
