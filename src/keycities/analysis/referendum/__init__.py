"""The 2016 EU referendum for a network: votes added up, against GB and UK."""
