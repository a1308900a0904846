"""Receipt printing: documents, layouts (receipt, X/Z reports, test page), the python-escpos
driver, its backends and the print queue."""
