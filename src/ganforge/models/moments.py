"""The moment loss's view of a joint: each joined column's shares beside its combinations' (a conditional
model's moment loss matches each label's mean encoded row; a joint of 40 combinations spreads a column's
share over many small slots, whose squared differences are small, and the label's relation to the column
went unlearnt: `oj`'s store against the label, Cramér's V 0.32 real, 0.12 generated)."""

from __future__ import annotations

import torch


def moment_parts(spans, device) -> list[tuple[int, int, torch.Tensor]]:
    """Each joint span's place and its combinations' columns' codes as a (combinations x codes) 0/1 matrix."""
    out, start = [], 0
    for s in spans:
        if s.parts:
            blocks = []
            for k, codes in s.parts:
                m = torch.zeros(s.width, k)
                m[torch.arange(s.width), torch.tensor(codes)] = 1.0
                blocks.append(m)
            out.append((start, s.width, torch.cat(blocks, 1).to(device)))
        start += s.width
    return out


def with_parts(rows: torch.Tensor, parts: list[tuple[int, int, torch.Tensor]]) -> torch.Tensor:
    """``rows`` with each joint's columns' one-hot shares beside (the combinations' probabilities summed)."""
    if not parts:
        return rows
    return torch.cat([rows] + [rows[:, s:s + w].float() @ m for s, w, m in parts], 1)
