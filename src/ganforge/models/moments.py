"""The moment loss's view of a joint: each joined column's shares beside its combinations' (a conditional
model's moment loss matches each label's mean encoded row; a joint of 40 combinations spreads a column's
share over many small slots, whose squared differences are small, and the label's relation to the column
went unlearnt: `oj`'s store against the label, Cramér's V 0.32 real, 0.12 generated)."""

from __future__ import annotations

import torch


def moment_parts(spans, device) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The joint spans' columns of the encoded row, and one block-diagonal 0/1 matrix from their combinations to
    each joined column's codes (one gather and one product per batch however many joints); None without
    joints."""
    joints, start = [], 0
    for s in spans:
        if s.parts:
            joints.append((start, s))
        start += s.width
    if not joints:
        return None
    columns = [c for start, s in joints for c in range(start, start + s.width)]
    matrix = torch.zeros(len(columns), sum(k for _, s in joints for k, _ in s.parts))
    row = col = 0
    for _, s in joints:  # each joint's members side by side over its own rows
        for k, codes in s.parts:
            matrix[row + torch.arange(s.width), col + torch.tensor(codes)] = 1.0
            col += k
        row += s.width
    return torch.tensor(columns, device=device), matrix.to(device)


def with_parts(rows: torch.Tensor, parts: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
    """``rows`` with each joint's columns' one-hot shares beside (the combinations' probabilities summed)."""
    if parts is None:
        return rows
    columns, matrix = parts
    return torch.cat([rows, rows[:, columns].float() @ matrix], 1)
