"""Chains (强链补链): chain maps as data, firms assigned to links, coverage, gaps and partners."""
