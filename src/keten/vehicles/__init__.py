"""EU targets: CO2 standards for new cars and vans (Regulation (EU) 2019/631 as amended), the
2040 Climate-Law account and the Effort Sharing (ESR) account of the Netherlands (seed 000)."""
