# joinhintd retry_join stanzas: revision 1, region "cn-hangzhou"
