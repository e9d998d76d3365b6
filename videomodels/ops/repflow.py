"""Representation flow: TV-L1 optical flow computed inside the network.

Follows Piergiovanni & Ryoo (CVPR 2019) as AssembleNet uses it: grayscale input,
min-max normalised to 0-255 over the whole clip, fixed gradient/divergence filters,
fixed theta/lambda/tau and a fixed number of iterations. Output: (u, v) for each
frame pair, the last one repeated so the clip keeps T frames.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RepresentationFlow(nn.Module):
    def __init__(self, iterations: int = 40, *, theta: float = 0.3, lam: float = 0.15, tau: float = 0.25):
        super().__init__()
        self.iterations = iterations
        self.theta, self.lam, self.tau = theta, lam, tau
        self.register_buffer("central_x", torch.tensor([[[[-0.5, 0.0, 0.5]]]]))
        self.register_buffer("central_y", torch.tensor([[[[-0.5], [0.0], [0.5]]]]))
        self.register_buffer("forward_x", torch.tensor([[[[-1.0, 1.0]]]]))
        self.register_buffer("forward_y", torch.tensor([[[[-1.0], [1.0]]]]))

    def _grad(self, image: torch.Tensor, kx: torch.Tensor, ky: torch.Tensor, pads: tuple) -> tuple:
        # Replicated borders: no spurious gradient at the image edge.
        gx = F.conv2d(F.pad(image, pads[0], mode="replicate"), kx)
        gy = F.conv2d(F.pad(image, pads[1], mode="replicate"), ky)
        return gx, gy

    def _divergence(self, px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
        # Backward differences, the adjoint of the forward gradient.
        dx = F.conv2d(F.pad(px[..., :-1], (1, 1, 0, 0)), self.forward_x)
        dy = F.conv2d(F.pad(py[..., :-1, :], (0, 0, 1, 1)), self.forward_y)
        return dx + dy

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, t, h, w = x.shape
        if t < 2:
            return x.new_zeros(b, 2, t, h, w)
        gray = x.mean(dim=1)  # [B, T, H, W]
        lo = gray.amin(dim=(1, 2, 3), keepdim=True)
        hi = gray.amax(dim=(1, 2, 3), keepdim=True)
        gray = 255.0 * (gray - lo) / (hi - lo).clamp_min(1e-6)
        first = gray[:, :-1].reshape(-1, 1, h, w)
        second = gray[:, 1:].reshape(-1, 1, h, w)

        central = ((1, 1, 0, 0), (0, 0, 1, 1))
        forward = ((0, 1, 0, 0), (0, 0, 0, 1))
        grad_x, grad_y = self._grad(second, self.central_x, self.central_y, central)
        grad_sq = grad_x * grad_x + grad_y * grad_y
        rho_c = second - first

        u1 = torch.zeros_like(first)
        u2 = torch.zeros_like(first)
        p11 = p12 = p21 = p22 = torch.zeros_like(first)
        l_t = self.lam * self.theta
        taut = self.tau / self.theta
        for _ in range(self.iterations):
            rho = rho_c + grad_x * u1 + grad_y * u2
            low = rho < -l_t * grad_sq
            high = rho > l_t * grad_sq
            middle = ~(low | high) & (grad_sq > 1e-12)
            step = torch.where(middle, -rho / grad_sq.clamp_min(1e-12), torch.zeros_like(rho))
            step = torch.where(low, torch.full_like(rho, l_t), step)
            step = torch.where(high, torch.full_like(rho, -l_t), step)
            v1 = u1 + step * grad_x
            v2 = u2 + step * grad_y
            u1 = v1 + self.theta * self._divergence(p11, p12)
            u2 = v2 + self.theta * self._divergence(p21, p22)
            u1x, u1y = self._grad(u1, self.forward_x, self.forward_y, forward)
            u2x, u2y = self._grad(u2, self.forward_x, self.forward_y, forward)
            norm1 = 1 + taut * torch.sqrt(u1x * u1x + u1y * u1y + 1e-12)
            norm2 = 1 + taut * torch.sqrt(u2x * u2x + u2y * u2y + 1e-12)
            p11, p12 = (p11 + taut * u1x) / norm1, (p12 + taut * u1y) / norm1
            p21, p22 = (p21 + taut * u2x) / norm2, (p22 + taut * u2y) / norm2

        flow = torch.stack([u1[:, 0], u2[:, 0]], dim=1).reshape(b, t - 1, 2, h, w).permute(0, 2, 1, 3, 4)
        return torch.cat([flow, flow[:, :, -1:]], dim=2)
