"""Office exports in: Excel workbooks, CSV in any Chinese encoding, mapped onto the contract."""
