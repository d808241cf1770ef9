"""DM-FNet (He et al., IEEE TMM 2025): diffusion-trained UNet features fused by a learned head."""
