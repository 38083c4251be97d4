"""Reading and writing the formats other systems already speak: SDMX, DHIS2, Excel."""
