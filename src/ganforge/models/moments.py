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
    columns, blocks, start = [], [], 0
    for s in spans:
        if s.parts:
            columns.extend(range(start, start + s.width))
            for k, codes in s.parts:
                m = torch.zeros(s.width, k)
                m[torch.arange(s.width), torch.tensor(codes)] = 1.0
                blocks.append(m)
        start += s.width
    if not columns:
        return None
    matrix = torch.zeros(len(columns), sum(b.shape[1] for b in blocks))
    row = col = 0
    for s in spans:  # each joint's blocks side by side over its own rows
        if s.parts:
            for k, _ in s.parts:
                matrix[row:row + s.width, col:col + k] = blocks.pop(0)
                col += k
            row += s.width
    return torch.tensor(columns, device=device), matrix.to(device)


def with_parts(rows: torch.Tensor, parts: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
    """``rows`` with each joint's columns' one-hot shares beside (the combinations' probabilities summed)."""
    if parts is None:
        return rows
    columns, matrix = parts
    return torch.cat([rows, rows[:, columns].float() @ matrix], 1)
